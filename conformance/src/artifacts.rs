//! `conformance run --artifacts DIR`: what each run leaves behind for a person to read.
//!
//! Per scenario and driver, DIR gets the notification trace exactly as the checks compare
//! it, followed by the scenario's `RasGetConnectStatus` results if it asks for any
//! (`.trace`), and the engine's line as a pcap file (`.pcap`, PPP frames of link type
//! `LINKTYPE_PPP_WITH_DIR`, for Wireshark or `tshark -r FILE -V`). A scenario named
//! `basic/pap-connect` run under one driver leaves `DIR/basic/pap-connect.trace` and
//! `DIR/basic/pap-connect.pcap`; under both drivers, each file carries the driver's name:
//! `DIR/basic/pap-connect.simulated.pcap`, `DIR/basic/pap-connect.realtime.pcap`, and so on.
//! A run that could not be carried out leaves nothing (its error is in the report).
//!
//! Each scenario also gets its dial as a sequence diagram, `DIR/basic/pap-connect.svg`
//! (drawn from the simulated run when there is one, [`crate::report::diagram_run`]), and
//! the run as a whole a page, `DIR/index.html`, that shows and links all of it.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::check::render;
use crate::json::Reported;
use crate::outcome::Verdict;
use crate::run::Driver;

/// An artifact that could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {}: {source}", path.display())]
pub struct ArtifactError {
    /// The file or folder.
    pub path: PathBuf,
    /// Why.
    #[source]
    pub source: io::Error,
}

impl ArtifactError {
    fn at(path: &Path) -> impl FnOnce(io::Error) -> ArtifactError + '_ {
        move |source| ArtifactError {
            path: path.to_owned(),
            source,
        }
    }
}

/// The artifacts folder.
#[derive(Debug, Clone)]
pub struct Artifacts {
    dir: PathBuf,
}

impl Artifacts {
    /// Use `dir`, creating it if missing, and make sure a file can be written there before
    /// any scenario runs (rather than after the whole suite).
    pub fn create(dir: &Path) -> Result<Self, ArtifactError> {
        if dir.exists() && !dir.is_dir() {
            return Err(ArtifactError::at(dir)(io::Error::new(
                io::ErrorKind::NotADirectory,
                "it is a file, not a folder",
            )));
        }
        fs::create_dir_all(dir).map_err(ArtifactError::at(dir))?;
        let probe = dir.join(".conformance-write-probe");
        fs::write(&probe, b"").map_err(ArtifactError::at(dir))?;
        fs::remove_file(&probe).map_err(ArtifactError::at(&probe))?;
        Ok(Artifacts {
            dir: dir.to_owned(),
        })
    }

    /// Write the artifacts of every run in `verdict`; returns the files written.
    pub fn write(&self, verdict: &Verdict) -> Result<Vec<PathBuf>, ArtifactError> {
        let several_drivers = verdict.runs.len() > 1;
        let mut written = Vec::new();
        for (driver, run) in &verdict.runs {
            let Ok(record) = run else { continue };
            let stem = self.stem(&verdict.name, several_drivers.then_some(*driver));
            if let Some(parent) = stem.parent() {
                fs::create_dir_all(parent).map_err(ArtifactError::at(parent))?;
            }
            let trace = with_extension(&stem, "trace");
            let mut text = render(&record.trace);
            if !record.status.is_empty() {
                // The status calls the scenario asked for, compared separately.
                text.push_str("--- RasGetConnectStatus ---\n");
                text.push_str(&render(&record.status));
            }
            fs::write(&trace, text).map_err(ArtifactError::at(&trace))?;
            written.push(trace);
            if let Some(capture) = &record.capture {
                let pcap = with_extension(&stem, "pcap");
                fs::write(&pcap, capture).map_err(ArtifactError::at(&pcap))?;
                written.push(pcap);
            }
        }
        if let Some(diagram) = crate::report::diagram(verdict) {
            let svg = with_extension(&self.stem(&verdict.name, None), "svg");
            let diagram = diagram.map_err(|message| {
                ArtifactError::at(&svg)(io::Error::new(io::ErrorKind::InvalidData, message))
            })?;
            fs::write(&svg, diagram).map_err(ArtifactError::at(&svg))?;
            written.push(svg);
        }
        Ok(written)
    }

    /// Write `DIR/index.html` for the whole run; returns its path.
    pub fn index(
        &self,
        scenarios: &[Reported<'_>],
        invalid: &[(String, String)],
    ) -> Result<PathBuf, ArtifactError> {
        let page = self.dir.join("index.html");
        fs::write(
            &page,
            crate::report::html::index(&self.dir, scenarios, invalid),
        )
        .map_err(ArtifactError::at(&page))?;
        Ok(page)
    }

    /// `DIR/<scenario name>[.<driver>]`, without an extension yet.
    fn stem(&self, scenario: &str, driver: Option<Driver>) -> PathBuf {
        let name = match driver {
            Some(driver) => format!("{scenario}.{driver}"),
            None => scenario.to_owned(),
        };
        self.dir.join(name)
    }
}

/// `stem` + `.extension` (not `Path::with_extension`, which would replace the `.simulated`
/// of `pap-connect.simulated`).
fn with_extension(stem: &Path, extension: &str) -> PathBuf {
    let mut path = stem.as_os_str().to_owned();
    path.push(".");
    path.push(extension);
    PathBuf::from(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::{Record, RunError};
    use crate::trace::TraceLine;
    use std::time::Duration;

    fn verdict(drivers: &[Driver]) -> Verdict {
        let record = Record {
            trace: vec!["OpenPort".parse::<TraceLine>().unwrap()],
            capture: Some(
                ras_engine::ppp::Capture::new(Vec::new())
                    .unwrap()
                    .into_inner(),
            ),
            ..Record::default()
        };
        Verdict {
            name: "basic/pap-connect".to_owned(),
            runs: drivers.iter().map(|&d| (d, Ok(record.clone()))).collect(),
            mismatches: Vec::new(),
            elapsed: Duration::ZERO,
            timings: drivers.iter().map(|_| Duration::ZERO).collect(),
        }
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "conformance-artifacts-{}-{name}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn one_driver_gets_plain_names_several_get_the_driver_in_the_name() {
        let dir = scratch("names");
        let artifacts = Artifacts::create(&dir.join("new")).unwrap();
        let names = |written: Vec<PathBuf>| -> Vec<String> {
            written
                .iter()
                .map(|p| p.strip_prefix(&dir).unwrap().display().to_string())
                .collect()
        };
        assert_eq!(
            names(artifacts.write(&verdict(&[Driver::Realtime])).unwrap()),
            [
                "new/basic/pap-connect.trace",
                "new/basic/pap-connect.pcap",
                "new/basic/pap-connect.svg"
            ]
        );
        assert_eq!(
            names(artifacts.write(&verdict(&Driver::BOTH)).unwrap()),
            [
                "new/basic/pap-connect.simulated.trace",
                "new/basic/pap-connect.simulated.pcap",
                "new/basic/pap-connect.realtime.trace",
                "new/basic/pap-connect.realtime.pcap",
                // One diagram per scenario, of the simulated run.
                "new/basic/pap-connect.svg",
            ]
        );
        assert_eq!(
            fs::read_to_string(dir.join("new/basic/pap-connect.trace")).unwrap(),
            "OpenPort\n"
        );
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn failed_runs_leave_nothing_and_unusable_folders_are_reported() {
        let dir = scratch("failed");
        let artifacts = Artifacts::create(&dir).unwrap();
        let mut failed = verdict(&[Driver::Simulated]);
        failed.runs[0].1 = Err(RunError {
            driver: Driver::Simulated,
            message: "stalled".to_owned(),
        });
        assert!(artifacts.write(&failed).unwrap().is_empty());
        // A file where the folder should be.
        let file = dir.join("file");
        fs::write(&file, b"").unwrap();
        let error = Artifacts::create(&file).unwrap_err();
        assert_eq!(error.path, file);
        assert!(error.to_string().ends_with("not a folder"), "{error}");
        let _ = fs::remove_dir_all(&dir);
    }
}

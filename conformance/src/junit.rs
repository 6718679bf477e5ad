//! JUnit XML reports (quick-junit), one test case per scenario.

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use crate::outcome::Verdict;

/// A JUnit report of `verdicts`, plus scenario files that could not be loaded.
pub fn report(
    verdicts: &[Verdict],
    unloadable: &[(String, String)],
) -> Result<String, quick_junit::SerializeError> {
    let mut report = Report::new("conformance");
    let mut suite = TestSuite::new("scenarios");
    for verdict in verdicts {
        let status = if verdict.passed() {
            TestCaseStatus::success()
        } else {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_message("scenario failed");
            status.set_description(verdict.explain());
            status
        };
        let mut case = TestCase::new(verdict.name.clone(), status);
        case.set_time(verdict.elapsed);
        suite.add_test_case(case);
    }
    for (name, error) in unloadable {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
        status.set_message("bad scenario file");
        status.set_description(error.clone());
        suite.add_test_case(TestCase::new(name.clone(), status));
    }
    report.add_test_suite(suite);
    report.to_string()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::check::Mismatch;
    use crate::run::{Driver, Record};

    #[test]
    fn a_failure_body_carries_the_trace_diff() {
        let verdict = Verdict {
            name: "basic/busy".to_owned(),
            runs: vec![(Driver::Simulated, Ok(Record::default()))],
            mismatches: vec![Mismatch {
                driver: Some(Driver::Simulated),
                summary: "the trace differs".to_owned(),
                diff: Some("@@ -1 +1 @@\n-ConnectDevice 676\n+Connected\n".to_owned()),
            }],
            elapsed: Duration::from_millis(20),
            timings: vec![Duration::from_millis(20)],
        };
        let xml = report(&[verdict], &[]).unwrap();
        assert!(
            xml.contains("<failure message=\"scenario failed\""),
            "{xml}"
        );
        assert!(xml.contains("-ConnectDevice 676"), "{xml}");
        assert!(xml.contains("+Connected"), "{xml}");
    }
}

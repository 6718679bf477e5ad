//! What the engine's front ends (`rasdial`, the C library) take from the environment: the
//! default phonebook's location and the `RAS_TIME_SCALE` factor. One place, so that every
//! front end finds the same phonebook and runs at the same speed.

use std::ffi::OsString;
use std::path::PathBuf;

use sansio::{TimeScale, TimeScaleError};

/// The variable holding the time scale (`0.01` runs every modem delay and protocol timer
/// a hundred times faster, to match `modem-sim --time-scale`).
pub const TIME_SCALE_VAR: &str = "RAS_TIME_SCALE";

/// The default phonebook: `$XDG_CONFIG_HOME/ras/rasphone.pbk` when that variable holds an
/// absolute path (the XDG Base Directory rule), else `$HOME/.config/ras/rasphone.pbk`;
/// `None` without either.
pub fn default_phonebook(
    xdg_config_home: Option<OsString>,
    home: Option<OsString>,
) -> Option<PathBuf> {
    let config = xdg_config_home
        .map(PathBuf::from)
        .filter(|dir| dir.is_absolute())
        .or_else(|| {
            home.filter(|home| !home.is_empty())
                .map(|home| PathBuf::from(home).join(".config"))
        })?;
    Some(config.join("ras").join("rasphone.pbk"))
}

/// The time scale from `RAS_TIME_SCALE` (unset or empty: real time).
pub fn time_scale(value: Option<&str>) -> Result<TimeScale, TimeScaleError> {
    match value.map(str::trim) {
        None | Some("") => Ok(TimeScale::REAL),
        Some(text) => text.parse(),
    }
}

/// [`default_phonebook`] from this process's `XDG_CONFIG_HOME` and `HOME`.
pub fn default_phonebook_from_env() -> Option<PathBuf> {
    default_phonebook(
        std::env::var_os("XDG_CONFIG_HOME"),
        std::env::var_os("HOME"),
    )
}

/// [`time_scale`] of this process's [`TIME_SCALE_VAR`].
pub fn time_scale_from_env() -> Result<TimeScale, TimeScaleError> {
    match std::env::var(TIME_SCALE_VAR) {
        Ok(value) => time_scale(Some(&value)),
        Err(std::env::VarError::NotPresent) => time_scale(None),
        Err(std::env::VarError::NotUnicode(value)) => {
            Err(TimeScaleError(value.to_string_lossy().into_owned()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_phonebook_paths() {
        let xdg = Some(OsString::from("/cfg"));
        let home = Some(OsString::from("/home/u"));
        assert_eq!(
            default_phonebook(xdg, home.clone()),
            Some(PathBuf::from("/cfg/ras/rasphone.pbk"))
        );
        assert_eq!(
            default_phonebook(Some(OsString::from("relative")), home.clone()),
            Some(PathBuf::from("/home/u/.config/ras/rasphone.pbk")),
            "XDG: relative paths are ignored"
        );
        assert_eq!(
            default_phonebook(None, home),
            Some(PathBuf::from("/home/u/.config/ras/rasphone.pbk"))
        );
        assert_eq!(default_phonebook(None, None), None);
    }

    #[test]
    fn time_scale_from_the_environment() {
        assert_eq!(time_scale(None), Ok(TimeScale::REAL));
        assert_eq!(time_scale(Some("")), Ok(TimeScale::REAL));
        assert_eq!(time_scale(Some("0.01")).map(TimeScale::factor), Ok(0.01));
        assert!(time_scale(Some("0")).is_err());
        assert!(time_scale(Some("fast")).is_err());
    }
}

//! S-parameters (V.250 §5.3.2 syntax, §6.2 and §6.3 meanings): the modem's numbered
//! settings, read with `ATSn?` and written with `ATSn=v`.

use sansio::Duration;

/// An S-register this modem implements. Its number, default and range live in
/// `SRegister::TABLE`, the one place they are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SRegister {
    /// S0, V.250 §6.3.8: rings before auto-answer (0 = off).
    AutoAnswerRings,
    /// S1 (Hayes): rings counted on the current incoming call. The modem writes it.
    RingCount,
    /// S2 (Hayes; V.250 leaves escapes to the manufacturer): the escape character, `+`.
    /// Above 127 disables escapes.
    EscapeCharacter,
    /// S3, V.250 §6.2.1: the character that ends a command line (CR).
    CommandLineTermination,
    /// S4, V.250 §6.2.2: the character that ends a response line (LF).
    ResponseFormatting,
    /// S5, V.250 §6.2.3: the character that deletes the previous one (BS).
    CommandLineEditing,
    /// S6, V.250 §6.3.9: seconds to wait for dial tone before dialling.
    BlindDialPause,
    /// S7, V.250 §6.3.10: seconds from the end of dialling to a carrier before giving up.
    ConnectionCompletionTimeout,
    /// S8, V.250 §6.3.11: seconds each `,` dial modifier pauses.
    CommaDialModifierTime,
    /// S9 (Hayes): carrier detect response time, in tenths of a second. Stored only: the
    /// simulated carrier has no noise to filter.
    CarrierDetectResponseTime,
    /// S10, V.250 §6.3.12: tenths of a second the modem stays connected after the
    /// carrier goes, before it hangs up with `NO CARRIER`.
    AutomaticDisconnectDelay,
    /// S11 (Hayes): DTMF tone duration and spacing, in milliseconds. Stored only: the
    /// simulated network takes the digits at once.
    DtmfToneDuration,
    /// S12 (Hayes): the escape guard time, in fiftieths of a second.
    EscapeGuardTime,
}

/// One row of the register table.
struct Row {
    register: SRegister,
    number: u8,
    default: u8,
    min: u8,
    max: u8,
}

impl SRegister {
    /// Number, default and range of each register. V.250 leaves S7's and S10's defaults
    /// to the manufacturer; 50 s and 1.4 s are what Hayes-compatible modems ship with.
    /// S6's floor of 2 s is V.250's. S1, S2, S9, S11 and S12 are the Hayes registers
    /// every dialer assumes.
    #[rustfmt::skip]
    const TABLE: [Row; 13] = [
        Row { register: SRegister::AutoAnswerRings,             number: 0,  default: 0,     min: 0, max: 255 },
        Row { register: SRegister::RingCount,                   number: 1,  default: 0,     min: 0, max: 255 },
        Row { register: SRegister::EscapeCharacter,             number: 2,  default: b'+',  min: 0, max: 255 },
        Row { register: SRegister::CommandLineTermination,      number: 3,  default: b'\r', min: 0, max: 127 },
        Row { register: SRegister::ResponseFormatting,          number: 4,  default: b'\n', min: 0, max: 127 },
        Row { register: SRegister::CommandLineEditing,          number: 5,  default: 0x08,  min: 0, max: 127 },
        Row { register: SRegister::BlindDialPause,              number: 6,  default: 2,     min: 2, max: 10 },
        Row { register: SRegister::ConnectionCompletionTimeout, number: 7,  default: 50,    min: 1, max: 255 },
        Row { register: SRegister::CommaDialModifierTime,       number: 8,  default: 2,     min: 0, max: 255 },
        Row { register: SRegister::CarrierDetectResponseTime,   number: 9,  default: 6,     min: 1, max: 255 },
        Row { register: SRegister::AutomaticDisconnectDelay,    number: 10, default: 14,    min: 1, max: 254 },
        Row { register: SRegister::DtmfToneDuration,            number: 11, default: 95,    min: 50, max: 255 },
        Row { register: SRegister::EscapeGuardTime,             number: 12, default: 50,    min: 0, max: 255 },
    ];

    fn row(self) -> &'static Row {
        &Self::TABLE[self.index()]
    }

    /// The variant's row in [`SRegister::TABLE`]: the table lists them in declaration
    /// order (a unit test holds it to that).
    const fn index(self) -> usize {
        self as usize
    }

    /// The register called `Sn`, if this modem has it.
    pub fn from_number(number: u32) -> Option<SRegister> {
        Self::TABLE
            .iter()
            .find(|row| u32::from(row.number) == number)
            .map(|row| row.register)
    }
}

/// The current value of every S-register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SRegisters {
    values: [u8; SRegister::TABLE.len()],
}

/// A value outside the register's V.250 range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfRange;

impl Default for SRegisters {
    fn default() -> Self {
        SRegisters {
            values: SRegister::TABLE.map(|row| row.default),
        }
    }
}

impl SRegisters {
    /// The register's value.
    pub fn get(&self, register: SRegister) -> u8 {
        self.values[register.index()]
    }

    /// Set the register, if `value` is in its range (V.250 §5.3.2: otherwise ERROR).
    pub fn set(&mut self, register: SRegister, value: u32) -> Result<(), OutOfRange> {
        let row = register.row();
        let value = u8::try_from(value).map_err(|_| OutOfRange)?;
        if !(row.min..=row.max).contains(&value) {
            return Err(OutOfRange);
        }
        self.values[register.index()] = value;
        Ok(())
    }

    /// The escape guard time (S12, in fiftieths of a second).
    pub fn escape_guard(&self) -> Duration {
        Duration::from_millis(20 * u64::from(self.get(SRegister::EscapeGuardTime)))
    }

    /// S10, the automatic disconnect delay (tenths of a second).
    pub fn carrier_loss_delay(&self) -> Duration {
        Duration::from_millis(100 * u64::from(self.get(SRegister::AutomaticDisconnectDelay)))
    }

    /// Every register as `(number, value)`, in number order (for `AT&V`).
    pub fn iter(&self) -> impl Iterator<Item = (u8, u8)> + '_ {
        SRegister::TABLE
            .iter()
            .map(|row| (row.number, self.get(row.register)))
    }

    /// Count one more ring in S1 (it stops at 255).
    pub fn count_ring(&mut self) {
        let index = SRegister::RingCount.index();
        self.values[index] = self.values[index].saturating_add(1);
    }

    /// A register counted in seconds, as a duration.
    pub fn seconds(&self, register: SRegister) -> Duration {
        Duration::from_secs(u64::from(self.get(register)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_rows_are_in_variant_order() {
        for (index, row) in SRegister::TABLE.iter().enumerate() {
            assert_eq!(row.register.index(), index);
            assert!((row.min..=row.max).contains(&row.default));
        }
    }

    #[test]
    fn set_checks_range() {
        let mut s = SRegisters::default();
        assert_eq!(s.get(SRegister::ConnectionCompletionTimeout), 50);
        assert_eq!(
            s.set(SRegister::ConnectionCompletionTimeout, 0),
            Err(OutOfRange)
        );
        assert_eq!(
            s.set(SRegister::ConnectionCompletionTimeout, 256),
            Err(OutOfRange)
        );
        assert_eq!(s.set(SRegister::ConnectionCompletionTimeout, 30), Ok(()));
        assert_eq!(
            s.seconds(SRegister::ConnectionCompletionTimeout),
            Duration::from_secs(30)
        );
        assert_eq!(
            SRegister::from_number(7),
            Some(SRegister::ConnectionCompletionTimeout)
        );
        assert_eq!(SRegister::from_number(99), None);
        assert_eq!(s.carrier_loss_delay(), Duration::from_millis(1400));
        assert_eq!(s.escape_guard(), Duration::from_secs(1));
    }

    #[test]
    fn s0_to_s12_all_exist_in_number_order() {
        let numbers: Vec<u8> = SRegisters::default().iter().map(|(n, _)| n).collect();
        assert_eq!(numbers, vec![0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
        let mut s = SRegisters::default();
        s.count_ring();
        s.count_ring();
        assert_eq!(s.get(SRegister::RingCount), 2);
    }
}

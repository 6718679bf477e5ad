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

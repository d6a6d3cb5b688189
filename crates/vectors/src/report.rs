//! Per-test outcomes and the summary line `N passed, M failed, K skipped`.

use std::fmt;

/// What happened to one test.
///
/// ```
/// use envelope_vectors::Outcome;
///
/// let outcome = Outcome::Skipped { reason: "needs AWS KMS".into() };
/// assert!(matches!(outcome, Outcome::Skipped { .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The test did what its manifest expects.
    Passed,
    /// It did not.
    Failed {
        /// What went wrong.
        reason: String,
    },
    /// It could not be run here (e.g. it needs AWS KMS).
    Skipped {
        /// Why not.
        reason: String,
    },
}

/// One test's name and outcome.
///
/// ```
/// use envelope_vectors::{Outcome, Report};
///
/// let mut report = Report::new();
/// report.push("aes-256", Outcome::Passed);
/// let first = &report.results[0];
/// assert_eq!((first.name.as_str(), &first.outcome), ("aes-256", &Outcome::Passed));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestResult {
    /// The test id from the manifest.
    pub name: String,
    /// What happened.
    pub outcome: Outcome,
}

/// The outcomes of every test of a manifest, in manifest order.
///
/// ```
/// use envelope_vectors::{Outcome, Report};
///
/// let mut report = Report::new();
/// report.push("aes-256", Outcome::Passed);
/// report.push("rsa-oaep", Outcome::Failed { reason: "wrong plaintext".into() });
/// report.push("kms", Outcome::Skipped { reason: "needs AWS KMS".into() });
///
/// assert_eq!((report.passed(), report.failed(), report.skipped()), (1, 1, 1));
/// assert!(!report.is_success());
/// assert_eq!(report.outcome("aes-256"), Some(&Outcome::Passed));
/// assert_eq!(report.failure_lines().collect::<Vec<_>>(), ["FAILED rsa-oaep: wrong plaintext"]);
/// assert_eq!(report.skip_lines().collect::<Vec<_>>(), ["SKIPPED kms: needs AWS KMS"]);
/// assert_eq!(report.summary(), "1 passed, 1 failed, 1 skipped");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// One entry per test.
    pub results: Vec<TestResult>,
}

impl Report {
    /// An empty report.
    pub fn new() -> Report {
        Report::default()
    }

    /// Records an outcome.
    pub fn push(&mut self, name: impl Into<String>, outcome: Outcome) {
        self.results.push(TestResult { name: name.into(), outcome });
    }

    /// Tests that passed.
    pub fn passed(&self) -> usize {
        self.results.iter().filter(|r| r.outcome == Outcome::Passed).count()
    }

    /// Tests that failed.
    pub fn failed(&self) -> usize {
        self.results.iter().filter(|r| matches!(r.outcome, Outcome::Failed { .. })).count()
    }

    /// Tests that were skipped.
    pub fn skipped(&self) -> usize {
        self.results.iter().filter(|r| matches!(r.outcome, Outcome::Skipped { .. })).count()
    }

    /// Whether no test failed.
    pub fn is_success(&self) -> bool {
        self.failed() == 0
    }

    /// The outcome of the test named `name`.
    pub fn outcome(&self, name: &str) -> Option<&Outcome> {
        self.results.iter().find(|r| r.name == name).map(|r| &r.outcome)
    }

    /// `N passed, M failed, K skipped`.
    pub fn summary(&self) -> String {
        format!("{} passed, {} failed, {} skipped", self.passed(), self.failed(), self.skipped())
    }

    /// One line per failed test: `FAILED <name>: <reason>`.
    pub fn failure_lines(&self) -> impl Iterator<Item = String> + '_ {
        self.results.iter().filter_map(|r| match &r.outcome {
            Outcome::Failed { reason } => Some(format!("FAILED {}: {}", r.name, reason)),
            _ => None,
        })
    }

    /// One line per skipped test: `SKIPPED <name>: <reason>`.
    pub fn skip_lines(&self) -> impl Iterator<Item = String> + '_ {
        self.results.iter().filter_map(|r| match &r.outcome {
            Outcome::Skipped { reason } => Some(format!("SKIPPED {}: {}", r.name, reason)),
            _ => None,
        })
    }
}

/// The failure lines, then the summary line last.
impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in self.failure_lines() {
            writeln!(f, "{line}")?;
        }
        write!(f, "{}", self.summary())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_is_the_last_line() {
        let mut report = Report::new();
        report.push("a", Outcome::Passed);
        report.push("b", Outcome::Failed { reason: "wrong plaintext".into() });
        report.push("c", Outcome::Skipped { reason: "needs AWS KMS".into() });
        assert_eq!(report.to_string(), "FAILED b: wrong plaintext\n1 passed, 1 failed, 1 skipped");
        assert!(!report.is_success());
    }
}

//! Per-test outcomes and the summary line `N passed, M failed, K skipped`.

use std::fmt;

/// What happened to one test.
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestResult {
    /// The test id from the manifest.
    pub name: String,
    /// What happened.
    pub outcome: Outcome,
}

/// The outcomes of every test of a manifest, in manifest order.
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

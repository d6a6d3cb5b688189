//! A progress bar (bytes, rate, ETA) on stderr for inputs of a few MiB and more, when stderr is
//! a terminal and --quiet is not given.

use std::io::{IsTerminal, Read};

use indicatif::{ProgressBar, ProgressStyle};

/// Inputs smaller than this finish too fast for a bar to help.
const THRESHOLD: u64 = 4 * 1024 * 1024;

/// A bar, or nothing.
#[derive(Clone)]
pub struct Progress(Option<ProgressBar>);

impl Progress {
    /// A bar for an input of `size` bytes (unknown for stdin: no bar).
    pub fn for_input(size: Option<u64>, quiet: bool, label: &str) -> Progress {
        let show = !quiet && std::io::stderr().is_terminal();
        match size {
            Some(size) if show && size >= THRESHOLD => {
                let bar = ProgressBar::new(size);
                let style =
                    ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}")
                        .map(|style| style.progress_chars("=> "))
                        .unwrap_or_else(|_| ProgressStyle::default_bar());
                bar.set_style(style);
                bar.set_message(label.to_owned());
                Progress(Some(bar))
            }
            _ => Progress(None),
        }
    }

    /// Wraps a reader so that what it reads advances the bar.
    pub fn wrap<'a, R: Read + 'a>(&self, reader: R) -> Box<dyn Read + 'a> {
        match &self.0 {
            Some(bar) => Box::new(bar.wrap_read(reader)),
            None => Box::new(reader),
        }
    }

    /// Advances the bar by `bytes` (for async copies that cannot use [`Progress::wrap`]).
    pub fn advance(&self, bytes: u64) {
        if let Some(bar) = &self.0 {
            bar.inc(bytes);
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

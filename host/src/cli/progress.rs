//! A progress bar on stderr for fleets large enough to take seconds; nothing at all when stderr
//! is not a terminal (CI logs, pipes, the tests), so output stays byte-for-byte as before.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use tenant_host::progress::{Phase, Progress};

/// Fleets with fewer stacks finish before a bar would be worth drawing.
const MIN_STACKS: usize = 200;

/// The bar, redrawn at most a few times a second from the worker threads' steps.
#[derive(Debug)]
pub struct Bar {
    bar: ProgressBar,
}

impl Bar {
    /// A bar on stderr if stderr is a terminal, else one that draws nothing.
    pub fn on_stderr() -> Self {
        let target = if std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(None, target);
        bar.set_style(
            ProgressStyle::with_template("{msg:32} [{bar:40}] {pos}/{len} ({elapsed})")
                .expect("the template is valid")
                .progress_chars("=> "),
        );
        Self { bar }
    }
}

impl Progress for Bar {
    fn begin(&self, phase: Phase, total: usize) {
        if phase == Phase::Stacks && total < MIN_STACKS {
            self.bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        self.bar.set_message(phase.to_string());
        self.bar.set_length(total as u64);
        self.bar.set_position(0);
    }

    fn step(&self) {
        self.bar.inc(1);
    }
}

impl Drop for Bar {
    /// Clears the bar, so that what follows on stderr starts on a clean line.
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

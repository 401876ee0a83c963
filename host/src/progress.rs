//! How far a run has got, for a progress display: the library reports phases and steps, the
//! command line decides whether and how to draw them.

use std::fmt;

/// A phase of a run whose steps can be counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Synthesizing, checking and writing the stacks; a step is a stack.
    Stacks,
    /// Running the plugins' fleet checks; a step is a plugin.
    CheckFleet,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Stacks => "synthesizing and checking stacks",
            Self::CheckFleet => "checking the fleet",
        })
    }
}

/// Told how far a run has got. Steps are reported from worker threads.
pub trait Progress: Sync {
    /// `phase`, of `total` steps, begins; the previous phase is over.
    fn begin(&self, phase: Phase, total: usize);
    /// One more step of the current phase is done.
    fn step(&self);
}

/// Reports nowhere.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Progress for Silent {
    fn begin(&self, _phase: Phase, _total: usize) {}

    fn step(&self) {}
}

//! The fault model of chaos runs: the `[[chaos]]` tables ([`spec`]), the seeded decisions of
//! network faults ([`schedule`]), the on-failure records a throttle window explains
//! ([`dropped`]), what faults excuse in the oracle's judgement ([`invariants`]) and what a chaos
//! run adds to its report ([`report`]). The harness's
//! `chaos` module carries the faults out.

pub mod dropped;
pub mod invariants;
pub mod report;
pub mod schedule;
pub mod spec;

pub use spec::FaultSpec;

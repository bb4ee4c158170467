//! What a chaos run adds to its report: every fault injected, with counts, and a timeline of
//! faults against uploads and deliveries (the HTML report draws it).

use serde::Serialize;

/// The chaos part of a run report (the harness's `pipeline::RunReport`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ChaosSummary {
    /// One row per fault of the scenario, in scenario order, with how often it fired.
    pub faults: Vec<FaultCount>,
    /// Faults, uploads and deliveries in time order (ms since the run started).
    pub timeline: Vec<TimelineEvent>,
    /// Findings the faults explain, excused one by one (e.g. an email per redelivered event).
    pub accounted: Vec<String>,
}

/// How often one fault of the scenario was injected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FaultCount {
    /// The fault as the scenario states it, e.g. `sns Publish throttle (p=0.3, max 5)`.
    pub fault: String,
    /// How many times it was injected.
    pub injected: u64,
}

/// One point of the chaos timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimelineEvent {
    /// ms since the run started.
    pub at_ms: u64,
    pub kind: TimelineKind,
    /// What happened, e.g. `sns Publish throttled` or the object key.
    pub label: String,
}

/// What a timeline point is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimelineKind {
    /// A fault was injected (or a fault window opened or closed).
    Fault,
    /// An upload completed.
    Upload,
    /// A FIFO message arrived.
    Delivery,
    /// An email alert arrived.
    Email,
    /// An on-failure record arrived.
    Failure,
}

//! The harness's pure core: everything that decides what a run does and whether it held, with
//! no AWS SDK and no async runtime, so the compiler keeps it free of network I/O.
//!
//! * [`stack`]: the stack as data (names, policies, the deploy plan);
//! * [`scenario`]: the scenario files' model and validation (reading the files is its only I/O);
//! * [`seeds`]: every random stream of a run, derived from its one seed (not re-exported: the
//!   harness uses it as `harness_core::seeds`);
//! * [`workload`]: seeded workloads;
//! * [`chaos`]: the fault model, the seeded fault schedule and the invariants faults excuse;
//! * [`oracle`]: the delivery oracle that judges what arrived against what was uploaded.
//!
//! The `harness` crate re-exports these modules under the same names and does the I/O.

pub mod chaos;
pub mod oracle;
pub mod scenario;
pub mod seeds;
pub mod stack;
pub mod workload;

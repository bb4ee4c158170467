//! The harness library: where the pipeline runs ([`run_target`]), the embedded LocalStack
//! ([`python`], [`provision`], [`localstack`], [`proc_tree`]), the handler artifact
//! ([`artifact`]), the command line ([`cli`]), and an HTTP client that records the SDK's
//! requests for request-level tests ([`recording`]).

pub mod artifact;
pub mod bench;
pub mod chaos;
pub mod check;
pub mod cli;
pub mod deploy;
pub mod docker;
#[cfg(test)]
mod fake_http;
pub mod html;
pub mod localstack;
pub mod mailbox;
pub mod paths;
pub mod pipeline;
pub mod proc_tree;
pub mod progress;
pub mod provision;
pub mod python;
pub mod recording;
pub mod redact;
pub mod run_target;
pub mod runner;

// The pure core lives in its own crate (no AWS SDK, no tokio); its modules keep their paths here.
pub use harness_core::{oracle, scenario, stack, workload};

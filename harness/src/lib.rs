//! The harness library: where the pipeline runs ([`target`]), the embedded LocalStack
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
pub mod oracle;
pub mod paths;
pub mod proc_tree;
pub mod progress;
pub mod provision;
pub mod python;
pub mod recording;
pub mod runner;
pub mod scenario;
pub mod stack;
pub mod target;
pub mod workload;

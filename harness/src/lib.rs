//! The harness library: where the pipeline runs ([`target`]), the embedded LocalStack
//! ([`python`], [`provision`], [`localstack`], [`proc_tree`]), the handler artifact
//! ([`artifact`]) and the command line ([`cli`]).

pub mod artifact;
pub mod cli;
pub mod deploy;
pub mod localstack;
pub mod paths;
pub mod proc_tree;
pub mod provision;
pub mod python;
pub mod stack;
pub mod target;

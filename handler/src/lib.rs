//! S3 upload notification handler: for each `s3:ObjectCreated:*` record, check the object's
//! encryption (HeadObject), publish an email alert to a standard SNS topic and a structured
//! JSON message to an SNS FIFO topic.
//!
//! The core (`event` -> `plan` -> `message`) is pure; `process` orchestrates it over the two
//! seams in `ports`, which `aws` implements with the AWS SDK, and returns a `summary` (or an
//! `error` that carries one). `main.rs` only wires.

pub mod aws;
pub mod config;
pub mod error;
pub mod event;
pub mod ids;
pub mod key;
pub mod message;
pub mod plan;
pub mod ports;
pub mod process;
pub mod summary;
pub mod verdict;

#[cfg(test)]
mod fixtures;

pub use config::Config;
pub use error::HandlerError;
pub use process::Processor;
pub use summary::Summary;

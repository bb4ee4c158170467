//! What stops the analysis of a crate: a module file that cannot be found, read or parsed, or
//! a `#[path]` attribute, which modgraph does not follow. Each error names the file at fault.

use std::io;
use std::path::PathBuf;

/// Why a crate's module tree could not be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: cannot read: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },

    #[error("{}:{line}:{column}: cannot parse: {message}", path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },

    #[error(
        "{}:{line}: `mod {module};`: neither {} nor {} exists",
        declared_in.display(),
        file.display(),
        mod_rs.display()
    )]
    MissingModule {
        declared_in: PathBuf,
        line: usize,
        module: String,
        file: PathBuf,
        mod_rs: PathBuf,
    },

    #[error(
        "{}:{line}: `mod {module};`: both {} and {} exist",
        declared_in.display(),
        file.display(),
        mod_rs.display()
    )]
    AmbiguousModule {
        declared_in: PathBuf,
        line: usize,
        module: String,
        file: PathBuf,
        mod_rs: PathBuf,
    },

    #[error(
        "{}:{line}: module `{module}` has a #[path] attribute, which modgraph does not follow \
         (move the file to where `mod {module};` looks for it)",
        declared_in.display()
    )]
    PathAttribute {
        declared_in: PathBuf,
        line: usize,
        module: String,
    },
}

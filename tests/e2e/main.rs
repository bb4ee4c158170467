//! End-to-end tests: the real handler binary, run by a real LocalStack that the harness starts
//! itself, over real HTTP. One test binary made of modules, driven by libtest-mimic so trials can
//! share one LocalStack (started on first use, stopped and checked for leftovers at the end).
//!
//! Filter as usual: `cargo test --test e2e -- lambda::`.

mod bench;
mod chaos_cli;
mod deploy;
mod gc;
mod interrupt;
mod lambda;
mod mailbox;
mod ministack;
mod regressions;
mod report;
mod requests;
mod scenarios;
mod shared;
mod supervisor;

use std::process::ExitCode;

use libtest_mimic::{Arguments, Trial};

fn main() -> ExitCode {
    let args = Arguments::from_args();
    let mut trials: Vec<Trial> = Vec::new();
    trials.extend(bench::trials());
    trials.extend(chaos_cli::trials());
    trials.extend(deploy::trials());
    trials.extend(gc::trials());
    trials.extend(interrupt::trials());
    trials.extend(lambda::trials());
    trials.extend(mailbox::trials());
    trials.extend(ministack::trials());
    trials.extend(regressions::trials());
    trials.extend(report::trials());
    trials.extend(scenarios::trials());
    trials.extend(requests::trials());
    trials.extend(supervisor::trials());
    trials.sort_by(|a, b| a.name().cmp(b.name()));
    let conclusion = libtest_mimic::run(&args, trials);
    let shutdown = shared::shutdown();
    if let Err(message) = &shutdown {
        eprintln!("error: stopping the shared LocalStack: {message}");
    }
    if conclusion.has_failed() || shutdown.is_err() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

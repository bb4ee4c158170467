//! `modgraph ROOT_FILE...`: prints the import edges between the top-level modules of each
//! crate and their cycles. Exit status: 0 when no crate has a cycle, 1 when one does, 2 on a
//! usage error or a crate that cannot be read (the error, naming the file, printed once).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use modgraph::ModuleGraph;

/// Finds import cycles between the top-level modules of crates.
#[derive(Parser)]
#[command(name = "modgraph")]
struct Args {
    /// Crate root files, e.g. harness/src/lib.rs harness/src/main.rs
    #[arg(required = true, value_name = "ROOT_FILE")]
    roots: Vec<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let mut unreadable = false;
    let mut cycles = 0;
    for root in &args.roots {
        match modgraph::analyze(root) {
            Ok(graph) => {
                cycles += graph.cycles().len();
                print!("{}", render(root, &graph));
            }
            Err(error) => {
                eprintln!("modgraph: {error}");
                unreadable = true;
            }
        }
    }
    if unreadable {
        ExitCode::from(2)
    } else if cycles > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// The crate's edges, then its cycles (or that it has none).
fn render(root: &Path, graph: &ModuleGraph) -> String {
    let here = Path::new("");
    let mut text = format!(
        "{}: {} top-level modules, {} edges\n",
        root.display(),
        graph.modules().count(),
        graph.edges().count()
    );
    for (from, to, evidence) in graph.edges() {
        text.push_str(&format!(
            "  {from} -> {to}  ({})\n",
            evidence.describe(here)
        ));
    }
    let cycles = graph.cycles();
    if cycles.is_empty() {
        text.push_str("  no module cycle\n");
    }
    for cycle in cycles {
        let described = cycle.describe(here).replace('\n', "\n  ");
        text.push_str(&format!("  cycle: {described}\n"));
    }
    text
}

//! The import graph between a crate's top-level modules, keeping the file and line of the
//! first reference behind each edge, and its cycles: Tarjan's strongly connected components,
//! each shown with one concrete loop and its evidence, so the import to cut can be found.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::path::{Path, PathBuf};

/// Where an edge comes from: the first reference found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    pub file: PathBuf,
    pub line: usize,
}

impl Evidence {
    /// `file:line`, the file relative to `base` when it is under it.
    pub fn describe(&self, base: &Path) -> String {
        let file = self.file.strip_prefix(base).unwrap_or(&self.file);
        format!("{}:{}", file.display(), self.line)
    }
}

/// Directed edges between the top-level modules of one crate (self-references left out).
#[derive(Debug, Default)]
pub struct ModuleGraph {
    modules: BTreeSet<String>,
    edges: BTreeMap<String, BTreeMap<String, Evidence>>,
}

/// One strongly connected component of two or more modules, with a loop through it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cycle {
    /// The component's modules, sorted.
    pub modules: Vec<String>,
    /// A shortest loop from the first module back to itself, edge by edge.
    pub steps: Vec<Step>,
}

/// One edge of a cycle's loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub from: String,
    pub to: String,
    pub evidence: Evidence,
}

impl ModuleGraph {
    /// A graph of these modules, without edges.
    pub fn new(modules: impl IntoIterator<Item = String>) -> Self {
        ModuleGraph {
            modules: modules.into_iter().collect(),
            edges: BTreeMap::new(),
        }
    }

    /// Records that `from` refers to `to`; a name that is not a module, a self-reference and
    /// any reference after an edge's first are ignored.
    pub fn add_reference(&mut self, from: &str, to: &str, evidence: Evidence) {
        if from == to || !self.modules.contains(from) || !self.modules.contains(to) {
            return;
        }
        self.edges
            .entry(from.to_string())
            .or_default()
            .entry(to.to_string())
            .or_insert(evidence);
    }

    /// The modules, sorted.
    pub fn modules(&self) -> impl Iterator<Item = &str> {
        self.modules.iter().map(String::as_str)
    }

    /// Every edge with its evidence, sorted by (from, to).
    pub fn edges(&self) -> impl Iterator<Item = (&str, &str, &Evidence)> {
        self.edges.iter().flat_map(|(from, targets)| {
            targets
                .iter()
                .map(move |(to, evidence)| (from.as_str(), to.as_str(), evidence))
        })
    }

    /// The evidence of the edge `from -> to`, if there is one.
    pub fn evidence(&self, from: &str, to: &str) -> Option<&Evidence> {
        self.edges.get(from)?.get(to)
    }

    fn successors<'a>(&'a self, module: &str) -> impl Iterator<Item = &'a str> + 'a {
        self.edges
            .get(module)
            .into_iter()
            .flat_map(|targets| targets.keys().map(String::as_str))
    }

    /// The strongly connected components of two or more modules, each sorted, in order.
    pub fn components(&self) -> Vec<Vec<String>> {
        let mut tarjan = Tarjan {
            graph: self,
            next_index: 0,
            index: BTreeMap::new(),
            low: BTreeMap::new(),
            stack: Vec::new(),
            on_stack: BTreeSet::new(),
            components: Vec::new(),
        };
        for module in self.modules() {
            if !tarjan.index.contains_key(module) {
                tarjan.connect(module);
            }
        }
        let mut components: Vec<Vec<String>> = tarjan
            .components
            .into_iter()
            .filter(|component| component.len() >= 2)
            .map(|component| {
                let mut names: Vec<String> = component.into_iter().map(str::to_string).collect();
                names.sort();
                names
            })
            .collect();
        components.sort();
        components
    }

    /// Every cycle: one per component of two or more modules, sorted.
    pub fn cycles(&self) -> Vec<Cycle> {
        self.components()
            .into_iter()
            .map(|modules| {
                let steps = self.shortest_loop(&modules);
                Cycle { modules, steps }
            })
            .collect()
    }

    /// A shortest loop from the component's first module back to it, staying in the
    /// component (breadth first, successors in name order, so the result is deterministic).
    fn shortest_loop(&self, component: &[String]) -> Vec<Step> {
        let inside: BTreeSet<&str> = component.iter().map(String::as_str).collect();
        let start = component[0].as_str();
        let mut parent: BTreeMap<&str, &str> = BTreeMap::new();
        let mut queue = VecDeque::from([start]);
        let mut last = None;
        'search: while let Some(module) = queue.pop_front() {
            for next in self.successors(module) {
                if next == start {
                    last = Some(module);
                    break 'search;
                }
                if inside.contains(next) && !parent.contains_key(next) {
                    parent.insert(next, module);
                    queue.push_back(next);
                }
            }
        }
        // A strongly connected component always leads back to its start.
        let Some(mut module) = last else {
            return Vec::new();
        };
        let mut path = vec![start, module];
        while module != start {
            module = parent[module];
            path.push(module);
        }
        path.reverse();
        path.windows(2)
            .map(|pair| Step {
                from: pair[0].to_string(),
                to: pair[1].to_string(),
                evidence: self.edges[pair[0]][pair[1]].clone(),
            })
            .collect()
    }
}

impl Cycle {
    /// `a -> b -> a`, then each edge of the loop with its `file:line` (relative to `base`).
    pub fn describe(&self, base: &Path) -> String {
        let mut text = String::new();
        if let Some(first) = self.steps.first() {
            text.push_str(&first.from);
        }
        for step in &self.steps {
            text.push_str(" -> ");
            text.push_str(&step.to);
        }
        if self.steps.len() < self.modules.len() {
            text.push_str(&format!(" (component: {})", self.modules.join(", ")));
        }
        for step in &self.steps {
            text.push_str(&format!(
                "\n  {} -> {}: {}",
                step.from,
                step.to,
                step.evidence.describe(base)
            ));
        }
        text
    }
}

impl fmt::Display for Cycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe(Path::new("")))
    }
}

/// Tarjan's algorithm; the recursion depth is bounded by the number of top-level modules.
struct Tarjan<'a> {
    graph: &'a ModuleGraph,
    next_index: usize,
    index: BTreeMap<&'a str, usize>,
    low: BTreeMap<&'a str, usize>,
    stack: Vec<&'a str>,
    on_stack: BTreeSet<&'a str>,
    components: Vec<Vec<&'a str>>,
}

impl<'a> Tarjan<'a> {
    fn connect(&mut self, module: &'a str) {
        self.index.insert(module, self.next_index);
        self.low.insert(module, self.next_index);
        self.next_index += 1;
        self.stack.push(module);
        self.on_stack.insert(module);
        for next in self.graph.successors(module) {
            if !self.index.contains_key(next) {
                self.connect(next);
                let low = self.low[module].min(self.low[next]);
                self.low.insert(module, low);
            } else if self.on_stack.contains(next) {
                let low = self.low[module].min(self.index[next]);
                self.low.insert(module, low);
            }
        }
        if self.low[module] == self.index[module] {
            let mut component = Vec::new();
            while let Some(top) = self.stack.pop() {
                self.on_stack.remove(top);
                component.push(top);
                if top == module {
                    break;
                }
            }
            self.components.push(component);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(modules: &[&str], edges: &[(&str, &str)]) -> ModuleGraph {
        let mut graph = ModuleGraph::new(modules.iter().map(|m| m.to_string()));
        for (line, (from, to)) in edges.iter().enumerate() {
            let evidence = Evidence {
                file: PathBuf::from(format!("{from}.rs")),
                line: line + 1,
            };
            graph.add_reference(from, to, evidence);
        }
        graph
    }

    fn loop_of(cycle: &Cycle) -> Vec<&str> {
        let mut names = vec![cycle.steps[0].from.as_str()];
        names.extend(cycle.steps.iter().map(|s| s.to.as_str()));
        names
    }

    #[test]
    fn no_cycle_in_a_dag() {
        let graph = graph(&["a", "b", "c"], &[("a", "b"), ("b", "c"), ("a", "c")]);
        assert!(graph.cycles().is_empty());
    }

    #[test]
    fn self_references_unknown_names_and_repeats_are_ignored() {
        let graph = graph(
            &["a", "b"],
            &[("a", "a"), ("a", "x"), ("a", "b"), ("a", "b")],
        );
        let edges: Vec<_> = graph.edges().map(|(f, t, e)| (f, t, e.line)).collect();
        assert_eq!(edges, [("a", "b", 3)]);
    }

    #[test]
    fn components_are_found_with_a_shortest_loop_from_the_first_module() {
        let graph = graph(
            &["a", "b", "c", "d", "e", "f"],
            &[
                ("a", "b"),
                ("b", "c"),
                ("c", "d"),
                ("d", "a"),
                ("c", "a"),
                ("e", "f"),
                ("f", "e"),
                ("d", "e"),
            ],
        );
        let cycles = graph.cycles();
        assert_eq!(cycles.len(), 2);
        assert_eq!(cycles[0].modules, ["a", "b", "c", "d"]);
        assert_eq!(loop_of(&cycles[0]), ["a", "b", "c", "a"]);
        assert_eq!(cycles[1].modules, ["e", "f"]);
        assert_eq!(loop_of(&cycles[1]), ["e", "f", "e"]);
        assert_eq!(
            cycles[0].to_string(),
            "a -> b -> c -> a (component: a, b, c, d)\n  a -> b: a.rs:1\n  b -> c: b.rs:2\n  c -> a: c.rs:5"
        );
    }
}

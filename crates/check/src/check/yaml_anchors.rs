//! YAML anchors (`&name`) and aliases (`*name`), copied as YAML defines
//! them, within bounds: aliases are how a small document expands into a
//! huge one ("billion laughs"), so what they copy is counted.

use super::yaml_tree::{Node, Value, MAX_DEPTH};

/// Nodes that aliases (`*name`) may copy into one document: far above
/// real use (a shared block of settings), far below a "billion laughs"
/// (aliases of aliases doubling at each level).
pub const MAX_ALIAS_NODES: usize = 250_000;

/// Anchored nodes (`&name`), copied where an alias (`*name`) stands, within
/// [`MAX_ALIAS_NODES`] for the document and [`MAX_DEPTH`] where they land.
#[derive(Default)]
pub(super) struct Anchors {
    /// Anchor id -> (node, its size in nodes, its depth).
    kept: std::collections::HashMap<usize, (Node, usize, usize)>,
    copied: usize,
}

impl Anchors {
    pub(super) fn keep(&mut self, id: usize, node: &Node) -> Result<(), String> {
        if id == 0 {
            return Ok(());
        }
        let (size, depth) = measure(node);
        self.charge(size)?;
        self.kept.insert(id, (node.clone(), size, depth));
        Ok(())
    }

    pub(super) fn copy(&mut self, id: usize, at_depth: usize, line: u32) -> Result<Node, String> {
        let Some((node, size, depth)) = self.kept.get(&id) else {
            // An alias before its anchor: YAML refuses it; read as null.
            return Ok(Node {
                line,
                key_line: None,
                value: Value::Null,
            });
        };
        if at_depth + depth > MAX_DEPTH {
            return Err(format!("an alias nests deeper than {MAX_DEPTH} levels"));
        }
        let (node, size) = (node.clone(), *size);
        self.charge(size)?;
        Ok(node)
    }

    fn charge(&mut self, size: usize) -> Result<(), String> {
        self.copied += size;
        if self.copied > MAX_ALIAS_NODES {
            return Err(format!(
                "anchors and aliases copy more than {MAX_ALIAS_NODES} nodes"
            ));
        }
        Ok(())
    }
}

/// A node's size (nodes) and depth (levels of collections), iteratively.
fn measure(node: &Node) -> (usize, usize) {
    let (mut size, mut depth) = (0, 0);
    let mut todo = vec![(node, 0usize)];
    while let Some((n, d)) = todo.pop() {
        size += 1;
        depth = depth.max(d);
        match &n.value {
            Value::Seq(items) => todo.extend(items.iter().map(|i| (i, d + 1))),
            Value::Map(entries) => todo.extend(entries.iter().map(|(_, v)| (v, d + 1))),
            _ => {}
        }
    }
    (size, depth)
}

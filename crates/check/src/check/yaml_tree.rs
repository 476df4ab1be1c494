//! The tree `check` reads YAML and JSON into: each node's line, mapping
//! order, scalars typed by YAML 1.2's core schema. Its own file, so the
//! parser (`yaml`) and the alias bookkeeping (`yaml_anchors`) both build on
//! it without importing each other.

/// Text in the tree: up to 24 bytes inline, no allocation.
pub type Text = compact_str::CompactString;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(f64),
    Str(Text),
    Seq(Vec<Node>),
    /// Keys in document order.
    Map(Vec<(Text, Node)>),
}

/// One node. Lines are `u32`s and collections are trimmed to their length:
/// a large template's tree is millions of these.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// 1-based line of the node's first character.
    pub line: u32,
    /// For a mapping's value: the line of its key (a resource's logical id).
    pub key_line: Option<u32>,
    pub value: Value,
}

impl Node {
    /// The value of `key`, or of the first merge key (`<<: *base`, a map
    /// or a list of maps) that has it, as YAML's merge keys define.
    pub fn get(&self, key: &str) -> Option<&Node> {
        let Value::Map(entries) = &self.value else {
            return None;
        };
        if let Some((_, v)) = entries.iter().find(|(k, _)| k == key) {
            return Some(v);
        }
        // Merged maps are copies, never deeper than MAX_DEPTH: no loop.
        entries
            .iter()
            .filter(|(k, _)| k == "<<")
            .find_map(|(_, merged)| match &merged.value {
                Value::Seq(items) => items.iter().find_map(|m| m.get(key)),
                _ => merged.get(key),
            })
    }

    pub fn entries(&self) -> &[(Text, Node)] {
        match &self.value {
            Value::Map(entries) => entries,
            _ => &[],
        }
    }

    pub fn items(&self) -> &[Node] {
        match &self.value {
            Value::Seq(items) => items,
            _ => &[],
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_map(&self) -> bool {
        matches!(self.value, Value::Map(_))
    }

    /// The one key of a single-key mapping (an intrinsic function such as
    /// `Ref` or `Fn::If`), with its argument.
    pub fn intrinsic(&self) -> Option<(&str, &Node)> {
        match self.entries() {
            [(k, v)] if k == "Ref" || k.starts_with("Fn::") || k == "Condition" => Some((k, v)),
            _ => None,
        }
    }

    /// A scalar as text (for names and tag values).
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::Str(s) => Some(s.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }
}

/// Deepest nesting of mappings and sequences a document may have. Real
/// templates stay under 20; far deeper is a hostile or broken file, and is
/// refused before any of it is built (no recursion ever runs that deep).
pub const MAX_DEPTH: usize = 256;

//! Which module directories are roots: a directory another one calls as a
//! local module is checked through its caller, with the inputs passed.

use std::collections::BTreeSet;
use std::path::PathBuf;

use super::{canonical, local_source, Loader};

/// The root modules among `loaded`: those no other loaded directory calls
/// as a local module, then, as long as some loaded directory is reached
/// from no root (a cycle of calls, or a module calling itself), the first
/// of those too. Nothing loaded goes unchecked.
pub(super) fn roots(loaded: &[(PathBuf, bool)], loader: &Loader) -> BTreeSet<PathBuf> {
    let calls = |d: &PathBuf| -> Vec<PathBuf> {
        loader
            .cache
            .get(d)
            .map(|m| {
                m.calls
                    .iter()
                    .filter_map(|c| local_source(c).map(|s| canonical(&m.dir.join(s))))
                    .collect()
            })
            .unwrap_or_default()
    };
    let called: BTreeSet<PathBuf> = loaded
        .iter()
        .flat_map(|(d, _)| calls(d).into_iter().filter(move |c| c != d))
        .collect();
    let mut roots: BTreeSet<PathBuf> = loaded
        .iter()
        .map(|(d, _)| d.clone())
        .filter(|d| !called.contains(d))
        .collect();
    loop {
        let mut reached: BTreeSet<PathBuf> = BTreeSet::new();
        let mut todo: Vec<PathBuf> = roots.iter().cloned().collect();
        while let Some(d) = todo.pop() {
            if reached.insert(d.clone()) {
                todo.extend(calls(&d));
            }
        }
        match loaded.iter().find(|(d, _)| !reached.contains(d)) {
            Some((d, _)) => {
                roots.insert(d.clone());
            }
            None => return roots,
        }
    }
}

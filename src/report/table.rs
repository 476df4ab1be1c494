//! The summary as a table for a terminal.

use std::fmt::Write as _;

use super::{RunStatus, Summary};
use crate::model::{AccountId, Region};

impl Summary {
    /// A table for a terminal.
    pub fn render_table(&self) -> String {
        let mut out = String::new();
        let imported_head = if self.dry_run {
            "WOULD_IMPORT"
        } else {
            "IMPORTED"
        };
        let _ = writeln!(
            out,
            "{:<14} {:<15} {:>6} {:>7} {:>8} {:>8} {:>7} {:>9} {:>12} {:>7}",
            "ACCOUNT",
            "REGION",
            "APIS",
            "STAGES",
            "FAILING",
            "PASSING",
            "EXEMPT",
            "ARCHIVED",
            imported_head,
            "ERRORS"
        );
        for r in &self.results {
            // A dry run imports nothing; show what it would have sent.
            let imported = if self.dry_run { r.stages } else { r.imported };
            let flag = if r.inventory_complete {
                String::new()
            } else {
                format!(
                    "  (inventory incomplete: nothing archived, {} left as they were)",
                    r.archive_withheld
                )
            };
            let _ = writeln!(
                out,
                "{:<14} {:<15} {:>6} {:>7} {:>8} {:>8} {:>7} {:>9} {:>12} {:>7}{flag}",
                r.account,
                r.region,
                r.apis,
                r.stages,
                r.failing,
                r.passing,
                r.exempt,
                r.archived,
                imported,
                r.errors
            );
        }
        let t = &self.totals;
        let _ = writeln!(
            out,
            "\n{} account(s), {} account-region(s): {} APIs, {} stages, {} failing, {} passing, {} exempt, {} archived; {} findings {}{}",
            t.accounts,
            t.account_regions,
            t.apis,
            t.stages,
            t.failing,
            t.passing,
            t.exempt,
            t.archived,
            if self.dry_run { t.stages } else { t.findings_imported },
            if self.dry_run { "built (dry run: nothing sent)" } else { "imported" },
            if t.findings_not_imported > 0 { format!(", {} NOT imported", t.findings_not_imported) } else { String::new() },
        );
        if self.trace_path {
            let _ = writeln!(
                out,
                "trace paths: {} traced stage(s), {} FAILED, {} unknown (left as they were), {} archived",
                t.paths, t.paths_failed, t.paths_unknown, t.paths_archived
            );
        }
        if self.sampling {
            let _ = writeln!(
                out,
                "sampling: {} traced stage(s), {} FAILED (blind), {} WARNING (partly seen), {} unknown (left as they were), {} archived",
                t.sampling, t.sampling_failed, t.sampling_warning, t.sampling_unknown, t.sampling_archived
            );
        }
        for e in &self.exemptions {
            let _ = writeln!(
                out,
                "exemption {} ({}): matched {} stage(s)",
                e.index, e.stage, e.stages_matched
            );
        }
        for s in &self.skipped {
            let _ = writeln!(out, "skipped {}: {}", s.account, s.reason);
        }
        if !self.warnings.is_empty() {
            let _ = writeln!(out, "\n{} warning(s):", self.warnings.len());
            for w in &self.warnings {
                let _ = writeln!(
                    out,
                    "  - [{:?}] {} {}: {}",
                    w.kind,
                    w.account.as_ref().map(AccountId::as_str).unwrap_or(""),
                    w.region.map(Region::as_str).unwrap_or(""),
                    w.message
                );
            }
        }
        if !self.errors.is_empty() {
            let _ = writeln!(out, "\n{} error(s):", self.errors.len());
            for e in &self.errors {
                let _ = writeln!(
                    out,
                    "  - [{:?}{}] {}",
                    e.kind,
                    e.code
                        .as_deref()
                        .map(|c| format!(" {c}"))
                        .unwrap_or_default(),
                    e.message
                );
            }
        }
        let _ = writeln!(
            out,
            "status: {} ({} ms)",
            match self.status {
                RunStatus::Complete => "complete",
                RunStatus::Partial =>
                    "PARTIAL: some accounts, regions or findings were not covered (see errors)",
            },
            self.duration_ms
        );
        out
    }
}

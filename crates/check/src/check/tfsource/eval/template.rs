//! String templates: literals, interpolations, `%{if}` and `%{for}`,
//! with `~` strip markers, as HCL's template language defines them.

use hcl::expr::TemplateExpr;
use hcl::template::{Directive, Element, Strip, Template};
use hcl::Value;

use super::ev::Ev;
use super::{as_text, text_weight, truth, Fail, MAX_TEXT, R};

impl Ev<'_> {
    pub(super) fn template_expr(&mut self, t: &TemplateExpr) -> R<Value> {
        let source = match t {
            TemplateExpr::QuotedString(s) => s.as_str(),
            TemplateExpr::Heredoc(h) => h.template.as_str(),
        };
        self.charge(text_weight(source))?;
        let template =
            Template::from_expr(t).map_err(|_| Fail::new("a string template does not parse"))?;
        // A template that is one interpolation is that value, unconverted.
        if let [Element::Interpolation(i)] = template.elements() {
            return self.expr(&i.expr);
        }
        let mut out = String::new();
        self.template(&mut out, &template, Strip::None, Strip::None)?;
        Ok(Value::String(out))
    }

    fn template(&mut self, out: &mut String, t: &Template, first: Strip, last: Strip) -> R<()> {
        let elems = t.elements();
        for (i, elem) in elems.iter().enumerate() {
            let prev = if i == 0 { first } else { strip(&elems[i - 1]) };
            let next = if i + 1 == elems.len() {
                last
            } else {
                strip(&elems[i + 1])
            };
            match elem {
                Element::Literal(l) => self.push(out, strip_literal(l, prev, next))?,
                Element::Interpolation(interp) => {
                    let v = self.expr(&interp.expr)?;
                    let text = as_text(&v).ok_or_else(|| {
                        Fail::new("a template interpolates a value that is not a string")
                    })?;
                    self.push(out, &text)?;
                }
                Element::Directive(d) => match d.as_ref() {
                    Directive::If(d) => {
                        let cond = self.expr(&d.cond_expr)?;
                        if truth(&cond)? {
                            let end = if d.false_template.is_some() {
                                d.else_strip
                            } else {
                                d.endif_strip
                            };
                            self.template(out, &d.true_template, d.if_strip, end)?;
                        } else if let Some(f) = &d.false_template {
                            self.template(out, f, d.else_strip, d.endif_strip)?;
                        }
                    }
                    Directive::For(d) => {
                        let pairs = self.collection(&d.collection_expr)?;
                        for (k, v) in pairs {
                            self.charge(1)?;
                            let depth = self.bind(d.key_var.as_ref(), &d.value_var, k, v);
                            let r = self.template(out, &d.template, d.for_strip, d.endfor_strip);
                            self.bound.truncate(depth);
                            r?;
                        }
                    }
                },
            }
        }
        Ok(())
    }

    fn push(&mut self, out: &mut String, text: &str) -> R<()> {
        self.charge(text_weight(text))?;
        if out.len() + text.len() > MAX_TEXT {
            return Err(Fail::new(format!(
                "it builds a string longer than the {MAX_TEXT} bytes check evaluates"
            )));
        }
        out.push_str(text);
        Ok(())
    }
}

/// The strip an element asks of its neighbours.
fn strip(e: &Element) -> Strip {
    match e {
        Element::Literal(_) => Strip::None,
        Element::Interpolation(i) => i.strip,
        Element::Directive(d) => {
            let (start, end) = match d.as_ref() {
                Directive::If(d) => (d.if_strip, d.endif_strip),
                Directive::For(d) => (d.for_strip, d.endfor_strip),
            };
            Strip::from((start.strip_start(), end.strip_end()))
        }
    }
}

/// `~` markers strip spaces and one line break next to them.
fn strip_literal(mut literal: &str, prev: Strip, next: Strip) -> &str {
    let space = |c: char| c.is_whitespace() && c != '\r' && c != '\n';
    if prev.strip_end() {
        literal = literal.trim_start_matches(space);
        literal = literal
            .strip_prefix("\r\n")
            .or_else(|| literal.strip_prefix('\n'))
            .unwrap_or(literal);
    }
    if next.strip_start() {
        literal = literal.trim_end_matches(space);
        literal = literal
            .strip_suffix("\r\n")
            .or_else(|| literal.strip_suffix('\n'))
            .unwrap_or(literal);
    }
    literal
}

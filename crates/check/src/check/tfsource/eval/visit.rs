//! Every sub-expression of an expression, inside string templates too:
//! what locals an expression needs, what resources it refers to.

use hcl::expr::{Operation, TemplateExpr, TraversalOperator};
use hcl::template::{Directive, Element, Template};
use hcl::{Expression, ObjectKey};
pub fn visit(e: &Expression, f: &mut dyn FnMut(&Expression)) {
    let mut todo: Vec<Expression> = Vec::new();
    let push_template = |t: &TemplateExpr, todo: &mut Vec<Expression>| {
        if let Ok(t) = Template::from_expr(t) {
            let mut elems: Vec<Element> = t.elements().to_vec();
            while let Some(el) = elems.pop() {
                match el {
                    Element::Literal(_) => {}
                    Element::Interpolation(i) => todo.push(i.expr),
                    Element::Directive(d) => match *d {
                        Directive::If(d) => {
                            todo.push(d.cond_expr);
                            elems.extend(d.true_template.elements().iter().cloned());
                            if let Some(f) = d.false_template {
                                elems.extend(f.elements().iter().cloned());
                            }
                        }
                        Directive::For(d) => {
                            todo.push(d.collection_expr);
                            elems.extend(d.template.elements().iter().cloned());
                        }
                    },
                }
            }
        }
    };
    let mut stack: Vec<&Expression> = vec![e];
    loop {
        let next = match stack.pop() {
            Some(e) => e,
            None => match todo.pop() {
                // Expressions parsed out of templates are owned here.
                Some(owned) => {
                    f(&owned);
                    let mut inner = Vec::new();
                    children(&owned, &mut |c| inner.push(c.clone()));
                    if let Expression::TemplateExpr(t) = &owned {
                        push_template(t, &mut todo);
                    }
                    todo.extend(inner);
                    continue;
                }
                None => return,
            },
        };
        f(next);
        if let Expression::TemplateExpr(t) = next {
            push_template(t, &mut todo);
        }
        children(next, &mut |c| stack.push(c));
    }
}

/// The direct sub-expressions of `e` (not those inside templates).
fn children<'e>(e: &'e Expression, f: &mut dyn FnMut(&'e Expression)) {
    match e {
        Expression::Array(items) => items.iter().for_each(f),
        Expression::Object(o) => {
            for (k, v) in o {
                if let ObjectKey::Expression(k) = k {
                    f(k);
                }
                f(v);
            }
        }
        Expression::Traversal(t) => {
            f(&t.expr);
            for op in &t.operators {
                if let TraversalOperator::Index(i) = op {
                    f(i);
                }
            }
        }
        Expression::FuncCall(c) => c.args.iter().for_each(f),
        Expression::Parenthesis(e) => f(e),
        Expression::Conditional(c) => {
            f(&c.cond_expr);
            f(&c.true_expr);
            f(&c.false_expr);
        }
        Expression::Operation(op) => match op.as_ref() {
            Operation::Unary(u) => f(&u.expr),
            Operation::Binary(b) => {
                f(&b.lhs_expr);
                f(&b.rhs_expr);
            }
        },
        Expression::ForExpr(x) => {
            f(&x.collection_expr);
            if let Some(k) = &x.key_expr {
                f(k);
            }
            f(&x.value_expr);
            if let Some(c) = &x.cond_expr {
                f(c);
            }
        }
        _ => {}
    }
}

/// `root.attr` references in `e` (`local.x`, `var.y`,
/// `aws_lambda_function.f`), templates included.
pub fn references(e: &Expression) -> Vec<(String, String)> {
    let mut out = Vec::new();
    visit(e, &mut |e| {
        if let Expression::Traversal(t) = e {
            if let (Expression::Variable(v), Some(TraversalOperator::GetAttr(a))) =
                (&t.expr, t.operators.first())
            {
                out.push((v.as_str().to_owned(), a.as_str().to_owned()));
            }
        }
    });
    out
}

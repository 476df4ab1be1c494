//! The evaluator: one walk over an expression, charging its steps.

use hcl::expr::{
    BinaryOperator, Conditional, ForExpr, FuncCall, Operation, TraversalOperator, UnaryOperator,
};
use hcl::{Expression, Map, ObjectKey, Value};

use super::funcs::function;
use super::{
    arith, as_text, index, key, num, number, text_weight, truth, weight, Budget, Fail, Names,
    EVAL_STEPS, MAX_TEXT, R, RUN_STEPS,
};

pub(super) struct Ev<'a> {
    pub(super) names: &'a dyn Names,
    /// `for` variables in scope, innermost last.
    pub(super) bound: Vec<(String, Value)>,
    pub(super) steps: u64,
    pub(super) budget: &'a Budget,
    pub(super) sensitive: bool,
}

impl Ev<'_> {
    pub(super) fn charge(&mut self, n: u64) -> R<()> {
        let left = self.budget.0.get();
        if left < n {
            self.budget.0.set(0);
            return Err(Fail::new(format!(
                "check's evaluation budget for one run ({RUN_STEPS} steps) is spent"
            )));
        }
        if self.steps < n {
            return Err(Fail::new(format!(
                "it takes more than the {EVAL_STEPS} steps check spends on one value"
            )));
        }
        self.budget.0.set(left - n);
        self.steps -= n;
        Ok(())
    }

    /// Charges for a copy of `v` (its weight, counted no further than what
    /// is left).
    pub(super) fn copy(&mut self, v: &Value) -> R<Value> {
        let w = weight(v, self.steps.min(self.budget.0.get()).saturating_add(1));
        self.charge(w)?;
        Ok(v.clone())
    }

    pub(super) fn expr(&mut self, e: &Expression) -> R<Value> {
        self.charge(1)?;
        match e {
            Expression::Null => Ok(Value::Null),
            Expression::Bool(b) => Ok(Value::Bool(*b)),
            Expression::Number(n) => Ok(Value::Number(*n)),
            Expression::String(s) => {
                self.charge(text_weight(s))?;
                Ok(Value::String(s.clone()))
            }
            Expression::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for i in items {
                    out.push(self.expr(i)?);
                }
                Ok(Value::Array(out))
            }
            Expression::Object(o) => {
                let mut out = Map::new();
                for (k, v) in o {
                    let key = match k {
                        ObjectKey::Identifier(i) => i.as_str().to_owned(),
                        ObjectKey::Expression(e) => {
                            let v = self.expr(e)?;
                            as_text(&v).ok_or_else(|| Fail::new("an object key is not a string"))?
                        }
                        _ => return Err(Fail::new("an object key check does not evaluate")),
                    };
                    let v = self.expr(v)?;
                    out.insert(key, v);
                }
                Ok(Value::Object(out))
            }
            Expression::TemplateExpr(t) => self.template_expr(t),
            Expression::Variable(v) => self.variable(v.as_str()),
            Expression::Traversal(t) => self.traversal(&t.expr, &t.operators),
            Expression::FuncCall(f) => self.call(f),
            Expression::Parenthesis(e) => self.expr(e),
            Expression::Conditional(c) => self.conditional(c),
            Expression::Operation(op) => self.operation(op),
            Expression::ForExpr(f) => self.for_expr(f),
            _ => Err(Fail::new("it uses an expression check does not evaluate")),
        }
    }

    fn variable(&mut self, name: &str) -> R<Value> {
        if let Some(i) = self.bound.iter().rposition(|(n, _)| n == name) {
            let v = self.bound[i].1.clone();
            return self.copy(&v);
        }
        Err(Fail::new(format!(
            "it refers to {name}, known only after apply"
        )))
    }

    fn traversal(&mut self, base: &Expression, ops: &[TraversalOperator]) -> R<Value> {
        // `var.x`, `local.y`, `each.value`: read in place, copying only
        // what the traversal selects (a large local is never copied whole).
        if let (Expression::Variable(root), Some(TraversalOperator::GetAttr(attr))) =
            (base, ops.first())
        {
            let root = root.as_str();
            if !self.bound.iter().any(|(n, _)| n == root) {
                return match self.names.get(root, attr.as_str()) {
                    Some(Ok(named)) => {
                        self.sensitive |= named.sensitive;
                        self.select(&named.value, &ops[1..])
                    }
                    Some(Err(f)) => Err(f),
                    None => Err(Fail::new(format!(
                        "it refers to {root}.{}, known only after apply",
                        attr.as_str()
                    ))),
                };
            }
        }
        let v = self.expr(base)?;
        self.select(&v, ops)
    }

    /// `ops` applied to `v`, by reference until a splat.
    fn select(&mut self, v: &Value, ops: &[TraversalOperator]) -> R<Value> {
        let mut at = v;
        for (i, op) in ops.iter().enumerate() {
            self.charge(1)?;
            at = match op {
                TraversalOperator::GetAttr(name) => key(at, name.as_str())?,
                TraversalOperator::LegacyIndex(n) => index(at, *n)?,
                TraversalOperator::Index(e) => {
                    let k = self.expr(e)?;
                    match &k {
                        Value::Number(n) => match n.as_u64() {
                            Some(n) => index(at, n)?,
                            None => return Err(Fail::new("an index is not a whole number")),
                        },
                        Value::String(s) => match at {
                            Value::Array(_) => match s.parse::<u64>() {
                                Ok(n) => index(at, n)?,
                                Err(_) => return Err(Fail::new("a list index is not a number")),
                            },
                            _ => key(at, s)?,
                        },
                        _ => return Err(Fail::new("an index is not a number or a string")),
                    }
                }
                TraversalOperator::AttrSplat | TraversalOperator::FullSplat => {
                    let rest = &ops[i + 1..];
                    // `.*` takes the attribute steps after it; `[*]` all.
                    let (each, after) = match op {
                        TraversalOperator::AttrSplat => {
                            let n = rest
                                .iter()
                                .take_while(|o| matches!(o, TraversalOperator::GetAttr(_)))
                                .count();
                            rest.split_at(n)
                        }
                        _ => (rest, &[][..]),
                    };
                    let items: Vec<Value> = match at {
                        Value::Array(items) => {
                            let mut out = Vec::with_capacity(items.len());
                            for item in items {
                                out.push(self.select(item, each)?);
                            }
                            out
                        }
                        Value::Null => Vec::new(),
                        other => vec![self.select(other, each)?],
                    };
                    return self.select(&Value::Array(items), after);
                }
            };
        }
        self.copy(at)
    }

    pub(super) fn bind(
        &mut self,
        key_var: Option<&hcl::Identifier>,
        value_var: &hcl::Identifier,
        k: Value,
        v: Value,
    ) -> usize {
        let depth = self.bound.len();
        if let Some(kv) = key_var {
            self.bound.push((kv.as_str().to_owned(), k));
        }
        self.bound.push((value_var.as_str().to_owned(), v));
        depth
    }

    /// The (key, value) pairs a `for` iterates: a list's indexes, an
    /// object's keys.
    pub(super) fn collection(&mut self, e: &Expression) -> R<Vec<(Value, Value)>> {
        match self.expr(e)? {
            Value::Array(items) => Ok(items
                .into_iter()
                .enumerate()
                .map(|(i, v)| (Value::from(i as u64), v))
                .collect()),
            Value::Object(o) => Ok(o.into_iter().map(|(k, v)| (Value::from(k), v)).collect()),
            _ => Err(Fail::new(
                "a for expression iterates over a value that is not a collection",
            )),
        }
    }

    fn for_expr(&mut self, f: &ForExpr) -> R<Value> {
        let pairs = self.collection(&f.collection_expr)?;
        let mut list = Vec::new();
        let mut object = Map::new();
        for (k, v) in pairs {
            self.charge(1)?;
            let depth = self.bind(f.key_var.as_ref(), &f.value_var, k, v);
            let r = self.for_item(f, &mut list, &mut object);
            self.bound.truncate(depth);
            r?;
        }
        Ok(match f.key_expr {
            Some(_) => Value::Object(object),
            None => Value::Array(list),
        })
    }

    fn for_item(
        &mut self,
        f: &ForExpr,
        list: &mut Vec<Value>,
        object: &mut Map<String, Value>,
    ) -> R<()> {
        if let Some(cond) = &f.cond_expr {
            let c = self.expr(cond)?;
            if !truth(&c)? {
                return Ok(());
            }
        }
        let value = self.expr(&f.value_expr)?;
        match &f.key_expr {
            None => list.push(value),
            Some(k) => {
                let k = self.expr(k)?;
                let k = as_text(&k)
                    .ok_or_else(|| Fail::new("a for expression's key is not a string"))?;
                if f.grouping {
                    match object.entry(k).or_insert_with(|| Value::Array(Vec::new())) {
                        Value::Array(items) => items.push(value),
                        _ => unreachable!("grouped values are lists"),
                    }
                } else if object.insert(k, value).is_some() {
                    // Terraform refuses a duplicate key without `...`.
                    return Err(Fail::new("a for expression makes a key twice"));
                }
            }
        }
        Ok(())
    }

    fn conditional(&mut self, c: &Conditional) -> R<Value> {
        let cond = self.expr(&c.cond_expr)?;
        if truth(&cond)? {
            self.expr(&c.true_expr)
        } else {
            self.expr(&c.false_expr)
        }
    }

    fn operation(&mut self, op: &Operation) -> R<Value> {
        match op {
            Operation::Unary(u) => {
                let v = self.expr(&u.expr)?;
                match u.operator {
                    UnaryOperator::Not => Ok(Value::Bool(!truth(&v)?)),
                    UnaryOperator::Neg => number(-num(&v)?),
                }
            }
            Operation::Binary(b) => {
                let l = self.expr(&b.lhs_expr)?;
                // && and || need both sides in Terraform (no short circuit),
                // but an unknown right side is unknown either way.
                let r = self.expr(&b.rhs_expr)?;
                use BinaryOperator as B;
                match b.operator {
                    B::Eq => Ok(Value::Bool(l == r)),
                    B::NotEq => Ok(Value::Bool(l != r)),
                    B::And => Ok(Value::Bool(truth(&l)? && truth(&r)?)),
                    B::Or => Ok(Value::Bool(truth(&l)? || truth(&r)?)),
                    B::Less => Ok(Value::Bool(num(&l)? < num(&r)?)),
                    B::LessEq => Ok(Value::Bool(num(&l)? <= num(&r)?)),
                    B::Greater => Ok(Value::Bool(num(&l)? > num(&r)?)),
                    B::GreaterEq => Ok(Value::Bool(num(&l)? >= num(&r)?)),
                    B::Plus => arith(&l, &r, i64::checked_add, |a, b| a + b),
                    B::Minus => arith(&l, &r, i64::checked_sub, |a, b| a - b),
                    B::Mul => arith(&l, &r, i64::checked_mul, |a, b| a * b),
                    B::Div => number(num(&l)? / num(&r)?),
                    B::Mod => arith(&l, &r, i64::checked_rem, |a, b| a % b),
                }
            }
        }
    }

    fn call(&mut self, f: &FuncCall) -> R<Value> {
        let name = f.name.name.as_str();
        if !f.name.namespace.is_empty() {
            return Err(Fail::new(format!(
                "it calls a provider function ({name}), which check does not evaluate"
            )));
        }
        let Some(func) = function(name) else {
            return Err(Fail::new(format!(
                "it calls {name}(), which check does not evaluate"
            )));
        };
        let mut args = Vec::with_capacity(f.args.len());
        for a in &f.args {
            args.push(self.expr(a)?);
        }
        if f.expand_final {
            match args.pop() {
                Some(Value::Array(rest)) => args.extend(rest),
                _ => {
                    return Err(Fail::new(format!(
                        "{name}(...): the expanded argument is not a list"
                    )))
                }
            }
        }
        let out = func(&args).map_err(|why| Fail::new(format!("{name}(): {why}")))?;
        // What a function builds is charged as a copy (concat, flatten).
        let w = weight(&out, self.steps.min(self.budget.0.get()).saturating_add(1));
        self.charge(w)?;
        if let Value::String(s) = &out {
            if s.len() > MAX_TEXT {
                return Err(Fail::new(format!(
                    "it builds a string longer than the {MAX_TEXT} bytes check evaluates"
                )));
            }
        }
        Ok(out)
    }
}

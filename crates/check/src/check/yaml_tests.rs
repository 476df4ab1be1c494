//! The YAML reader: lines, tags, depth and alias bounds.
use super::*;

#[test]
fn short_form_tags_read_as_long_forms_with_lines() {
    let doc = parse(
        "Resources:\n  Stage:\n    Type: AWS::ApiGateway::Stage\n    Properties:\n      TracingEnabled: !Ref Tracing\n      StageName: !Sub '${Env}-api'\n",
    )
    .unwrap();
    let stage = doc.get("Resources").unwrap().get("Stage").unwrap();
    assert_eq!((stage.key_line, stage.line), (Some(2), 3));
    let props = stage.get("Properties").unwrap();
    let (f, arg) = props.get("TracingEnabled").unwrap().intrinsic().unwrap();
    assert_eq!((f, arg.as_str()), ("Ref", Some("Tracing")));
    assert_eq!(
        props.get("StageName").unwrap().intrinsic().unwrap().0,
        "Fn::Sub"
    );
}

#[test]
fn a_section_is_handed_over_entry_by_entry_and_not_kept() {
    let text = "Parameters:\n  P: {Default: x}\nResources:\n  A:\n    Type: T\n  B: {Type: U}\nOutputs: {}\n";
    let mut seen = Vec::new();
    let doc = parse_diverting(text, "Resources", &mut |k, n| {
        seen.push((
            k.to_owned(),
            n.key_line,
            n.get("Type").and_then(Node::scalar_text),
        ))
    })
    .unwrap();
    assert_eq!(
        seen,
        [
            ("A".to_owned(), Some(4), Some("T".to_owned())),
            ("B".to_owned(), Some(6), Some("U".to_owned()))
        ]
    );
    assert!(doc.get("Resources").unwrap().is_map());
    assert!(doc.get("Resources").unwrap().entries().is_empty());
    assert!(doc.get("Parameters").unwrap().get("P").is_some());
    // The same text parsed whole keeps them.
    assert_eq!(
        parse(text)
            .unwrap()
            .get("Resources")
            .unwrap()
            .entries()
            .len(),
        2
    );
}

#[test]
fn json_parses_with_lines_and_errors_say_where() {
    let doc = parse("{\n  \"Resources\": {\n    \"S\": {\"Type\": \"x\"}\n  }\n}").unwrap();
    assert_eq!(
        doc.get("Resources").unwrap().get("S").unwrap().key_line,
        Some(3)
    );
    let err = parse("a: [1, 2\nb: 3\n").unwrap_err();
    assert!(err.line >= 1, "{err:?}");
}

#[test]
fn deep_nesting_is_refused_in_every_style_without_a_crash() {
    // 100,000 levels as a block list (`- - - ... x`), as flow lists, as
    // block mappings: each refused with a line, none read to the end.
    let block_list = format!("{}x\n", "- ".repeat(100_000));
    let flow = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let mut mapping = String::new();
    for i in 0..1_000 {
        mapping.push_str(&" ".repeat(i));
        mapping.push_str("k:\n");
    }
    for (name, text) in [("block", block_list), ("flow", flow), ("mapping", mapping)] {
        let err = parse(&text).expect_err(name);
        assert!(
            err.message.contains("nested deeper") || err.message.contains("recursion"),
            "{name}: {err:?}"
        );
    }
    // Up to the limit is fine.
    let ok = format!("{}x\n", "- ".repeat(MAX_DEPTH));
    assert!(parse(&ok).is_ok());
}

#[test]
fn tags_scalars_and_documents_read_as_before() {
    let doc = parse(
        "a: !If [c, !Ref X, 'q']\nb: 010\nc: 'true'\nd: true\ne: ~\nf: !!str 5\n1: one\n---\nz: 1\n",
    )
    .unwrap();
    let (f, args) = doc.get("a").unwrap().intrinsic().unwrap();
    assert_eq!(f, "Fn::If");
    assert_eq!(args.items()[1].intrinsic().unwrap().0, "Ref");
    assert_eq!(args.items()[2].as_str(), Some("q"));
    assert_eq!(doc.get("b").unwrap().value, Value::Number(10.0));
    assert_eq!(doc.get("c").unwrap().as_str(), Some("true"));
    assert_eq!(doc.get("d").unwrap().value, Value::Bool(true));
    assert_eq!(doc.get("e").unwrap().value, Value::Null);
    assert_eq!(doc.get("f").unwrap().as_str(), Some("5"));
    assert_eq!(doc.get("1").unwrap().as_str(), Some("one"));
    assert!(doc.get("z").is_none(), "only the first document");
    assert_eq!(parse("").unwrap().value, Value::Null);
}

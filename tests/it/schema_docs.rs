//! The SDL describes itself (issue #18): every type, field, argument, input field and enum value
//! has a description, and every enum tells clients it may grow. One run lists every offender,
//! so the list can be worked through rather than discovered one failure at a time.

use async_graphql::parser::{
    parse_schema,
    types::{InputValueDefinition, TypeKind, TypeSystemDefinition},
};
use async_graphql::{Positioned, parser::types::FieldDefinition};

/// What every enum's description must say: a client that fails on an unknown value breaks the
/// day a value is added, which the schema gate treats as a safe change.
const OPEN_ENUM: &str = "New values may be added";

/// Scalars and directives the GraphQL specification defines: their descriptions are not ours.
const BUILT_IN_SCALARS: &[&str] = &["String", "Int", "Float", "Boolean", "ID"];
const BUILT_IN_DIRECTIVES: &[&str] = &["include", "skip", "deprecated", "specifiedBy", "oneOf"];

fn undescribed(description: &Option<Positioned<String>>) -> bool {
    description
        .as_ref()
        .is_none_or(|d| d.node.trim().is_empty())
}

fn check_arguments(
    owner: &str,
    arguments: &[Positioned<InputValueDefinition>],
    offenders: &mut Vec<String>,
) {
    for arg in arguments {
        if undescribed(&arg.node.description) {
            offenders.push(format!("argument {owner}({}:)", arg.node.name.node));
        }
    }
}

fn check_fields(
    type_name: &str,
    fields: &[Positioned<FieldDefinition>],
    offenders: &mut Vec<String>,
) {
    for field in fields {
        let owner = format!("{type_name}.{}", field.node.name.node);
        if undescribed(&field.node.description) {
            offenders.push(format!("field {owner}"));
        }
        check_arguments(&owner, &field.node.arguments, offenders);
    }
}

/// Every place the SDL lacks a description, or an enum that does not say it is open.
fn offenders(sdl: &str) -> Vec<String> {
    let doc = parse_schema(sdl).expect("the exported SDL parses");
    let mut offenders = Vec::new();
    for definition in &doc.definitions {
        match definition {
            TypeSystemDefinition::Schema(_) => {}
            TypeSystemDefinition::Directive(d) => {
                let name = d.node.name.node.as_str();
                if BUILT_IN_DIRECTIVES.contains(&name) {
                    continue;
                }
                if undescribed(&d.node.description) {
                    offenders.push(format!("directive @{name}"));
                }
                check_arguments(&format!("@{name}"), &d.node.arguments, &mut offenders);
            }
            TypeSystemDefinition::Type(t) => {
                let t = &t.node;
                let name = t.name.node.as_str();
                if name.starts_with("__") || BUILT_IN_SCALARS.contains(&name) {
                    continue;
                }
                let kind = match &t.kind {
                    TypeKind::Scalar => "scalar",
                    TypeKind::Object(_) => "type",
                    TypeKind::Interface(_) => "interface",
                    TypeKind::Union(_) => "union",
                    TypeKind::Enum(_) => "enum",
                    TypeKind::InputObject(_) => "input",
                };
                if undescribed(&t.description) {
                    offenders.push(format!("{kind} {name}"));
                }
                match &t.kind {
                    TypeKind::Object(o) => check_fields(name, &o.fields, &mut offenders),
                    TypeKind::Interface(i) => check_fields(name, &i.fields, &mut offenders),
                    TypeKind::InputObject(i) => {
                        for field in &i.fields {
                            if undescribed(&field.node.description) {
                                offenders
                                    .push(format!("input field {name}.{}", field.node.name.node));
                            }
                        }
                    }
                    TypeKind::Enum(e) => {
                        let open = t.description.as_ref().is_some_and(|d| {
                            d.node.to_lowercase().contains(&OPEN_ENUM.to_lowercase())
                        });
                        if !open {
                            offenders.push(format!("enum {name} does not say \"{OPEN_ENUM}\""));
                        }
                        for value in &e.values {
                            if undescribed(&value.node.description) {
                                offenders
                                    .push(format!("enum value {name}.{}", value.node.value.node));
                            }
                        }
                    }
                    TypeKind::Scalar | TypeKind::Union(_) => {}
                }
            }
        }
    }
    offenders
}

#[test]
fn the_sdl_describes_every_type_field_argument_and_enum_value() {
    let offenders = offenders(&zebrat::graphql::sdl());
    assert!(
        offenders.is_empty(),
        "{} places in the SDL lack a description (or an enum does not say it is open):\n  {}",
        offenders.len(),
        offenders.join("\n  ")
    );
}

#[test]
fn the_check_finds_what_it_should() {
    let sdl = r#"
        "A described type." type Query {
            "Described." ok(
                "Described." a: Int
                b: Int
            ): Side
            bare: Int
        }
        input In { x: Int }
        "Buy or sell." enum Side { "Described." BUY SELL }
        "Buy or sell. New values may be added: treat unknown ones as such." enum Open { "Yes." A }
        scalar Decimal
        union U = Query
    "#;
    let mut found = offenders(sdl);
    found.sort();
    assert_eq!(
        found,
        [
            "argument Query.ok(b:)",
            "enum Side does not say \"New values may be added\"",
            "enum value Side.SELL",
            "field Query.bare",
            "input In",
            "input field In.x",
            "scalar Decimal",
            "union U",
        ]
    );
}

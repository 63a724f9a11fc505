//! Class names from files and from model metadata.

use kiln::vision::ClassNames;

fn names(list: &[&str]) -> ClassNames {
    ClassNames {
        names: list.iter().map(|name| name.to_string()).collect(),
    }
}

#[test]
fn ultralytics_dict_literal_parses_in_key_order() {
    let text = "{1: 'bicycle', 0: 'person', 2: \"traffic light\", 3: 'it\\'s',}";
    assert_eq!(
        ClassNames::parse_metadata(text).unwrap(),
        names(&["person", "bicycle", "traffic light", "it's"])
    );
}

#[test]
fn json_list_and_quoted_keys_parse() {
    let expected = names(&["cat", "dog"]);
    assert_eq!(
        ClassNames::parse_metadata(r#"["cat", "dog"]"#).unwrap(),
        expected
    );
    assert_eq!(
        ClassNames::parse_metadata(r#"{"0": "cat", "1": "dog"}"#).unwrap(),
        expected
    );
    assert_eq!(ClassNames::parse_metadata("{}").unwrap(), names(&[]));
}

#[test]
fn malformed_metadata_is_an_error() {
    for text in [
        "person, bicycle",
        "{0: 'person', 2: 'car'}",
        "{0: 'a', 0: 'b'}",
        "{0: 'unterminated}",
        "['a' 'b']",
        "{0: 'a'} trailing",
        "{x: 'a'}",
    ] {
        assert!(ClassNames::parse_metadata(text).is_err(), "{text}");
    }
}

#[test]
fn names_file_has_one_name_per_line() {
    let path = std::env::temp_dir().join(format!("kiln-names-{}.names", std::process::id()));
    std::fs::write(&path, "person\n bicycle \ncar\n\n").unwrap();
    let parsed = ClassNames::from_file(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(parsed, names(&["person", "bicycle", "car"]));
    assert_eq!(parsed.name(1), "bicycle");
    assert_eq!(parsed.name(7), "class 7");
    assert!(ClassNames::from_file(&path).is_err());
}

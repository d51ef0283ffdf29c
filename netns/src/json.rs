//! The JSON both tools print: an array of flat objects, compact (`ip -j`) or indented (`ip -j -p`).

/// One JSON value of an object field.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(String),
    Int(i64),
    StrList(Vec<String>),
}

/// An object: fields in output order.
pub type Object = Vec<(&'static str, Value)>;

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn value(v: &Value, pretty: bool) -> String {
    match v {
        Value::Str(s) => quote(s),
        Value::Int(n) => n.to_string(),
        Value::StrList(items) => {
            let items: Vec<String> = items.iter().map(|s| quote(s)).collect();
            if pretty {
                format!("[ {} ]", items.join(","))
            } else {
                format!("[{}]", items.join(","))
            }
        }
    }
}

/// The array, with a trailing newline. Pretty output follows iproute2's layout:
/// `[ {` / 8-space indented keys / `},{` / `} ]`.
pub fn array(objects: &[Object], pretty: bool) -> String {
    if !pretty {
        let objs: Vec<String> = objects
            .iter()
            .map(|o| {
                let fields: Vec<String> = o
                    .iter()
                    .map(|(k, v)| format!("{}:{}", quote(k), value(v, false)))
                    .collect();
                format!("{{{}}}", fields.join(","))
            })
            .collect();
        return format!("[{}]\n", objs.join(","));
    }
    if objects.is_empty() {
        return "[ ]\n".to_string();
    }
    let objs: Vec<String> = objects
        .iter()
        .map(|o| {
            let fields: Vec<String> = o
                .iter()
                .map(|(k, v)| format!("        {}: {}", quote(k), value(v, true)))
                .collect();
            format!("{{\n{}\n    }}", fields.join(",\n"))
        })
        .collect();
    format!("[ {} ]\n", objs.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Object> {
        vec![
            vec![("name", Value::Str("m2".into())), ("id", Value::Int(5))],
            vec![("name", Value::Str("m1".into())), ("id", Value::Int(0))],
        ]
    }

    #[test]
    fn compact_as_ip_j() {
        assert_eq!(
            array(&sample(), false),
            "[{\"name\":\"m2\",\"id\":5},{\"name\":\"m1\",\"id\":0}]\n"
        );
        assert_eq!(array(&[], false), "[]\n");
    }

    #[test]
    fn pretty_as_ip_j_p() {
        assert_eq!(
            array(&sample(), true),
            "[ {\n        \"name\": \"m2\",\n        \"id\": 5\n    },{\n        \"name\": \"m1\",\n        \"id\": 0\n    } ]\n"
        );
    }

    #[test]
    fn escapes() {
        assert_eq!(quote("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
        assert_eq!(
            array(
                &[vec![("a", Value::StrList(vec!["x".into(), "y".into()]))]],
                false
            ),
            "[{\"a\":[\"x\",\"y\"]}]\n"
        );
    }
}

//! rustfmt's layout rules, for the pieces of generated Rust whose layout
//! depends on the length of a name.
//!
//! Generated code must be rustfmt-clean as emitted, and its bytes must not
//! depend on the user's rustfmt, so we never run rustfmt on it: where a
//! template cannot be written in one fixed layout, the text is laid out here.
//! Each width below mirrors the rustfmt option of the same name at its
//! default value; `tests/rustfmt.rs` holds these rules to rustfmt's own.
//! This module depends on nothing else in the crate.

/// `max_width`: no line may be longer.
pub const MAX_WIDTH: usize = 100;
/// `fn_call_width`: the arguments of a call stay on one line while they fit.
pub const FN_CALL_WIDTH: usize = 60;
/// `chain_width`: a method chain stays on one line while it fits.
pub const CHAIN_WIDTH: usize = 60;
/// `array_width`: an array literal stays on one line while it fits.
pub const ARRAY_WIDTH: usize = 60;
/// `struct_lit_width`: a struct literal stays on one line while its fields
/// fit.
pub const STRUCT_LIT_WIDTH: usize = 18;
/// `tab_spaces`: one indentation level, and the extra indentation of a
/// continuation line.
pub const INDENT: usize = 4;

fn pad(width: usize) -> String {
    " ".repeat(width)
}

/// A call statement starting at column `indent`: on one line while the
/// arguments fit in `fn_call_width` and the line in `max_width`; for a
/// `let`, next on the line after the `=` if it fits there; otherwise one
/// argument per line.
pub fn call_stmt(indent: usize, prefix: &str, callee: &str, args: &[String]) -> String {
    let joined = args.join(", ");
    let one = format!("{prefix}{callee}({joined});");
    if joined.len() <= FN_CALL_WIDTH && indent + one.len() <= MAX_WIDTH {
        return one;
    }
    let inner = pad(indent + INDENT);
    let rhs = format!("{callee}({joined});");
    if prefix.starts_with("let ")
        && joined.len() <= FN_CALL_WIDTH
        && inner.len() + rhs.len() <= MAX_WIDTH
    {
        return format!("{}\n{inner}{rhs}", prefix.trim_end());
    }
    let mut out = format!("{prefix}{callee}(\n");
    for a in args {
        out.push_str(&format!("{inner}{a},\n"));
    }
    out.push_str(&pad(indent));
    out.push_str(");");
    out
}

/// `let x = self.x.method(arg);` at column `indent`: one line while the
/// chain fits in `chain_width` and the line in `max_width`, next on the line
/// after the `=` if it fits there, otherwise one element per line.
pub fn chain_let(indent: usize, ident: &str, method_call: &str) -> String {
    let chain = format!("self.{ident}.{method_call}");
    let one = format!("let {ident} = {chain};");
    if chain.len() <= CHAIN_WIDTH && indent + one.len() <= MAX_WIDTH {
        return one;
    }
    let inner = pad(indent + INDENT);
    if chain.len() <= CHAIN_WIDTH && inner.len() + chain.len() + ";".len() <= MAX_WIDTH {
        return format!("let {ident} =\n{inner}{chain};");
    }
    format!("let {ident} = self\n{inner}.{ident}\n{inner}.{method_call};")
}

/// `let name = expr;` at column `indent`, with the expression moved after
/// the `=` when the statement does not fit in `max_width`.
pub fn simple_let(indent: usize, ident: &str, expr: &str) -> String {
    let one = format!("let {ident} = {expr};");
    if indent + one.len() <= MAX_WIDTH {
        one
    } else {
        format!("let {ident} =\n{}{expr};", pad(indent + INDENT))
    }
}

/// `pub name: Type,` in a struct whose fields start at column `indent`: the
/// type moves to the next line when the field does not fit in `max_width`.
pub fn struct_field(indent: usize, ident: &str, ty: &str) -> String {
    let one = format!("pub {ident}: {ty},");
    if indent + one.len() <= MAX_WIDTH {
        one
    } else {
        format!("pub {ident}:\n{}{ty},", pad(indent + INDENT))
    }
}

/// `const NAME: &str = "...";` at column `indent`: on one line when it
/// fits, otherwise the literal on the next line.
pub fn const_str(indent: usize, name: &str, literal: &str) -> String {
    let one = format!("const {name}: &str = {literal};");
    // rustfmt moves the literal only when that makes the line fit; a
    // multi-line literal starts where it is.
    let moved_fits = indent + INDENT + literal.len() + ";".len() <= MAX_WIDTH;
    if literal.contains('\n') || indent + one.len() <= MAX_WIDTH || !moved_fits {
        one
    } else {
        format!("const {name}: &str =\n{}{literal};", pad(indent + INDENT))
    }
}

/// `{vis}const NAME: Ty = Ty(&[a, b]);` at column `indent` (`vis` is empty
/// or ends with a space): the slice stays on one line while it fits in
/// `array_width` and the line in `max_width`, otherwise one element per line.
pub fn const_slice_call(
    indent: usize,
    vis: &str,
    name: &str,
    ty: &str,
    items: &[String],
) -> String {
    let joined = items.join(", ");
    let one = format!("{vis}const {name}: {ty} = {ty}(&[{joined}]);");
    if indent + one.len() <= MAX_WIDTH && "[]".len() + joined.len() <= ARRAY_WIDTH {
        return one;
    }
    let mut out = format!("{vis}const {name}: {ty} = {ty}(&[\n");
    for item in items {
        out.push_str(&format!("{}{item},\n", pad(indent + INDENT)));
    }
    out.push_str(&pad(indent));
    out.push_str("]);");
    out
}

/// The `let` binding a create-body field before its checks run: required
/// fields go through `v.required`, defaulted ones through `default_call` on
/// the `Option`, the rest are bound as sent.
pub fn input_let(
    indent: usize,
    ident: &str,
    name: &str,
    required: bool,
    default_call: Option<&str>,
) -> String {
    match (required, default_call) {
        (true, _) => call_stmt(
            indent,
            &format!("let {ident} = "),
            "v.required",
            &[format!("\"{name}\""), format!("self.{ident}")],
        ),
        (false, Some(call)) => chain_let(indent, ident, call),
        (false, None) => simple_let(indent, ident, &format!("self.{ident}")),
    }
}

/// The `let` binding a PATCH-body field: a NOT NULL column may be omitted
/// but not set to null (`v.not_null`); a nullable one is bound as sent.
pub fn patch_let(indent: usize, ident: &str, name: &str, nullable: bool) -> String {
    if nullable {
        simple_let(indent, ident, &format!("self.{ident}"))
    } else {
        call_stmt(
            indent,
            &format!("let {ident} = "),
            "v.not_null",
            &[format!("\"{name}\""), format!("self.{ident}")],
        )
    }
}

/// `.route(PATH, get(a).post(b))`, one link of a router chain whose links
/// start at column `indent`: on one line while the arguments fit in
/// `fn_call_width` and the line in `max_width`; otherwise each argument on
/// its own line, where the `get(..).post(..)` chain stays whole while that
/// line fits and is broken before each method otherwise.
pub fn route_call(indent: usize, path_const: &str, methods: &[(&str, &str)]) -> String {
    let calls: Vec<String> = methods.iter().map(|(m, h)| format!("{m}({h})")).collect();
    let chain = calls.join(".");
    let args_len = path_const.len() + ", ".len() + chain.len();
    if args_len <= FN_CALL_WIDTH && indent + ".route()".len() + args_len <= MAX_WIDTH {
        return format!(".route({path_const}, {chain})");
    }
    let inner = pad(indent + INDENT);
    let chain = if inner.len() + chain.len() + ",".len() <= MAX_WIDTH {
        chain
    } else {
        calls.join(&format!("\n{inner}{}.", pad(INDENT)))
    };
    format!(
        ".route(\n{inner}{path_const},\n{inner}{chain},\n{})",
        pad(indent)
    )
}

/// `callee(args).await;` as a statement at column `indent`: on one line
/// while the arguments fit in `fn_call_width` and the line in `max_width`,
/// otherwise one argument per line and `.await` on a line of its own.
pub fn await_stmt(indent: usize, callee: &str, args: &[String]) -> String {
    let joined = args.join(", ");
    let one = format!("{callee}({joined}).await;");
    if joined.len() <= FN_CALL_WIDTH && indent + one.len() <= MAX_WIDTH {
        return one;
    }
    let inner = pad(indent + INDENT);
    let mut out = format!("{callee}(\n");
    for a in args {
        out.push_str(&format!("{inner}{a},\n"));
    }
    out.push_str(&format!("{})\n{}.await;", pad(indent), pad(indent)));
    out
}

/// Whether `Router::new().merge(a::routes()).merge(b::routes())` stays on
/// one line: it does while the chain fits in `chain_width`.
pub fn merge_chain_inline(modules: &[String]) -> bool {
    let chain = "Router::new()".len()
        + modules
            .iter()
            .map(|m| ".merge(::routes())".len() + m.len())
            .sum::<usize>();
    chain <= CHAIN_WIDTH
}

/// Whether a struct literal written with shorthand fields (`Self { a, b }`)
/// stays on one line: it does while the fields fit in `struct_lit_width`.
pub fn struct_lit_inline(fields: &str) -> bool {
    fields.len() <= STRUCT_LIT_WIDTH
}

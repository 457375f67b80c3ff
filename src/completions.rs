//! `pegasus completions bash|zsh|fish`: completion scripts. The frame of each script is
//! written by hand below; the command words and options come from the one table in
//! `cli::table`, so a new option is offered without touching this file.
//!
//! Server names (for `server destroy` and `server ip`) are read as the user types, with
//! `pegasus server list -o noheader -o columns=name`, quietly: stdin from /dev/null
//! (no token prompt can wait), stderr dropped; when it fails, nothing is offered.

use crate::cli::Shell;
use crate::cli::table::{COMMANDS, Cmd, Complete, Opt};

pub fn script(shell: Shell) -> String {
    match shell {
        Shell::Bash => bash(),
        Shell::Zsh => zsh(),
        Shell::Fish => fish(),
    }
}

/// The commands the scripts complete arguments for (not the program or groups).
fn leaves() -> impl Iterator<Item = &'static Cmd> {
    COMMANDS
        .iter()
        .copied()
        .filter(|c| !c.group && c.path != ["help"])
}

/// `-t --server-type` forms of an option.
fn spellings(o: &Opt) -> Vec<String> {
    let mut v = Vec::new();
    if let Some(c) = o.short {
        v.push(format!("-{c}"));
    }
    v.push(format!("--{}", o.long));
    v
}

/// The words one level below a group: command names and aliases (and `help`).
fn group_words(group: &Cmd) -> Vec<&'static str> {
    let mut words: Vec<&str> = group.children().flat_map(Cmd::names).collect();
    if group.path == ["server"] {
        words.push("help");
    }
    words
}

const SERVERS_CMD: &str =
    "command pegasus server list -o noheader -o columns=name </dev/null 2>/dev/null";

fn bash() -> String {
    let top: &'static Cmd = &crate::cli::table::TOP;
    let server: &'static Cmd = &crate::cli::table::SERVER;
    let mut arms = String::new();
    let opt_words = |c: &Cmd| {
        c.opts()
            .into_iter()
            .flat_map(spellings)
            .collect::<Vec<_>>()
            .join(" ")
    };
    arms.push_str(&format!(
        "        '') words=\"{} {}\" ;;\n",
        group_words(top).join(" "),
        opt_words(top)
    ));
    arms.push_str(&format!(
        "        server) words=\"{} {}\" ;;\n",
        group_words(server).join(" "),
        opt_words(server)
    ));
    arms.push_str(&format!(
        "        help) words=\"{}\" ;;\n        'help server') words=\"{}\" ;;\n",
        group_words(top).join(" "),
        group_words(server).join(" ")
    ));
    for cmd in leaves() {
        let mut values = String::new();
        for o in cmd.opts().into_iter().filter(|o| o.value.is_some()) {
            let pat = spellings(o).join("|");
            let action = match o.complete {
                Complete::File => "COMPREPLY=($(compgen -f -- \"$cur\")); return ;;".to_string(),
                Complete::Words(w) => format!(
                    "COMPREPLY=($(compgen -W \"{}\" -- \"$cur\")); return ;;",
                    w.join(" ")
                ),
                Complete::Nothing | Complete::ServerNames => "return ;;".to_string(),
            };
            values.push_str(&format!("                {pat}) {action}\n"));
        }
        // Options when the word starts with '-'; else the arguments, when there are any.
        let args = match cmd.args {
            Complete::ServerNames => {
                "            [[ $cur == -* ]] || words=$(_pegasus_servers)\n".to_string()
            }
            Complete::Words(w) => {
                format!(
                    "            [[ $cur == -* ]] || words=\"{}\"\n",
                    w.join(" ")
                )
            }
            _ => String::new(),
        };
        arms.push_str(&format!(
            "        '{}')\n            case $prev in\n{values}            esac\n            words=\"{}\"\n{args}            ;;\n",
            cmd.path.join(" "),
            opt_words(cmd),
        ));
    }
    format!(
        r#"# bash completion for pegasus. Install:
#   pegasus completions bash > ~/.local/share/bash-completion/completions/pegasus
# or add to ~/.bashrc:  source <(pegasus completions bash)

# The project's server names; nothing when pegasus cannot list them.
_pegasus_servers() {{
    {SERVERS_CMD}
}}

_pegasus() {{
    local cur prev cmd="" words="" i w
    cur=${{COMP_WORDS[COMP_CWORD]}}
    prev=${{COMP_WORDS[COMP_CWORD-1]}}
    COMPREPLY=()
    # The command so far: the words before the cursor that are not options.
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${{COMP_WORDS[i]}}
        case $w in
            -*) ;;
            *)
                case $cmd in
                    '') cmd=$w ;;
                    server | help) cmd="$cmd $w" ;;
                esac
                ;;
        esac
    done
    case $cmd in
        'server ls') cmd='server list' ;;
        'server delete') cmd='server destroy' ;;
        'server help') cmd='help server' ;;
    esac
    case $cmd in
{arms}    esac
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
}}

complete -F _pegasus pegasus
"#
    )
}

/// Text for zsh's `_describe`: colons in a name or description are escaped.
fn zsh_item(word: &str, doc: &str) -> String {
    format!(
        "'{}:{}'",
        word.replace(':', "\\:"),
        doc.replace('\'', "'\\''")
    )
}

fn zsh() -> String {
    let top: &'static Cmd = &crate::cli::table::TOP;
    let server: &'static Cmd = &crate::cli::table::SERVER;
    let group_items = |g: &Cmd| {
        let mut items: Vec<String> = Vec::new();
        for c in g.children() {
            for n in c.names() {
                items.push(zsh_item(n, c.doc));
            }
        }
        if g.path == ["server"] {
            items.push(zsh_item("help", "show the help of a command"));
        }
        items.join(" ")
    };
    let opt_items = |c: &Cmd| {
        c.opts()
            .into_iter()
            .flat_map(|o| spellings(o).into_iter().map(move |s| zsh_item(&s, o.doc)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut arms = String::new();
    arms.push_str(&format!(
        "    '') items=({} {}) ;;\n    server) items=({} {}) ;;\n    help) items=({}) ;;\n    'help server') items=({}) ;;\n",
        group_items(top),
        opt_items(top),
        group_items(server),
        opt_items(server),
        group_items(top),
        group_items(server),
    ));
    for cmd in leaves() {
        let mut values = String::new();
        for o in cmd.opts().into_iter().filter(|o| o.value.is_some()) {
            let pat = spellings(o).join("|");
            let action = match o.complete {
                Complete::File => "_files; return ;;".to_string(),
                Complete::Words(w) => format!("compadd -- {}; return ;;", w.join(" ")),
                Complete::Nothing | Complete::ServerNames => "return 1 ;;".to_string(),
            };
            values.push_str(&format!("        {pat}) {action}\n"));
        }
        // Options when the word starts with '-'; else the arguments, when there are any.
        let args = match cmd.args {
            Complete::ServerNames => {
                "      if [[ $PREFIX != -* ]]; then\n        servers=(${(f)\"$(_pegasus_servers)\"})\n        (( ${#servers} )) && compadd -- $servers\n        return\n      fi\n".to_string()
            }
            Complete::Words(w) => format!(
                "      if [[ $PREFIX != -* ]]; then\n        compadd -- {}\n        return\n      fi\n",
                w.join(" ")
            ),
            _ => String::new(),
        };
        arms.push_str(&format!(
            "    '{}')\n      case $prev in\n{values}      esac\n{args}      items=({}) ;;\n",
            cmd.path.join(" "),
            opt_items(cmd),
        ));
    }
    format!(
        r#"#compdef pegasus
# zsh completion for pegasus. Install:
#   pegasus completions zsh > ~/.zfunc/_pegasus
# with  fpath+=(~/.zfunc)  before  compinit  in ~/.zshrc.

# The project's server names; nothing when pegasus cannot list them.
_pegasus_servers() {{
  {SERVERS_CMD}
}}

_pegasus() {{
  local cmd="" prev w i
  local -a items servers
  prev=${{words[CURRENT-1]}}
  for (( i = 2; i < CURRENT; i++ )); do
    w=${{words[i]}}
    case $w in
      -*) ;;
      *)
        case $cmd in
          '') cmd=$w ;;
          server|help) cmd="$cmd $w" ;;
        esac
        ;;
    esac
  done
  case $cmd in
    'server ls') cmd='server list' ;;
    'server delete') cmd='server destroy' ;;
    'server help') cmd='help server' ;;
  esac
  case $cmd in
{arms}  esac
  (( ${{#items}} )) && _describe 'pegasus' items
}}

if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
  _pegasus "$@"
else
  compdef _pegasus pegasus
fi
"#
    )
}

fn fish_quote(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

fn fish() -> String {
    let top: &'static Cmd = &crate::cli::table::TOP;
    let server: &'static Cmd = &crate::cli::table::SERVER;
    let mut lines = String::new();
    let mut group = |g: &Cmd, at: &str| {
        for c in g.children() {
            for n in c.names() {
                lines.push_str(&format!(
                    "complete -c pegasus -n {} -a {} -d {}\n",
                    fish_quote(&format!("__pegasus_is '{at}'")),
                    n,
                    fish_quote(c.doc)
                ));
            }
        }
    };
    group(top, "");
    group(server, "server");
    group(top, "help");
    group(server, "help server");
    lines.push_str(
        "complete -c pegasus -n \"__pegasus_is 'server'\" -a help -d 'show the help of a command'\n",
    );
    for cmd in [top, server].into_iter().chain(leaves()) {
        let cond = fish_quote(&format!("__pegasus_is '{}'", cmd.path.join(" ")));
        for o in cmd.opts() {
            let mut line = format!("complete -c pegasus -n {cond}");
            if let Some(c) = o.short {
                line.push_str(&format!(" -s {c}"));
            }
            line.push_str(&format!(" -l {}", o.long));
            if o.value.is_some() {
                match o.complete {
                    Complete::File => line.push_str(" -r -F"),
                    Complete::Words(w) => {
                        line.push_str(&format!(" -x -a {}", fish_quote(&w.join(" "))))
                    }
                    _ => line.push_str(" -x"),
                }
            }
            line.push_str(&format!(" -d {}\n", fish_quote(o.doc)));
            lines.push_str(&line);
        }
        match cmd.args {
            Complete::ServerNames => lines.push_str(&format!(
                "complete -c pegasus -n {cond} -a '(__pegasus_servers)'\n"
            )),
            Complete::Words(w) => lines.push_str(&format!(
                "complete -c pegasus -n {cond} -a {}\n",
                fish_quote(&w.join(" "))
            )),
            _ => {}
        }
    }
    format!(
        r#"# fish completion for pegasus. Install:
#   pegasus completions fish > ~/.config/fish/completions/pegasus.fish

# The command so far: the words before the cursor that are not options.
function __pegasus_cmd
    set -l cmd ''
    for w in (commandline -opc)[2..-1]
        switch $w
            case '-*'
            case '*'
                if test -z "$cmd"
                    set cmd $w
                else if contains -- $cmd server help
                    set cmd "$cmd $w"
                end
        end
    end
    switch $cmd
        case 'server ls'
            set cmd 'server list'
        case 'server delete'
            set cmd 'server destroy'
        case 'server help'
            set cmd 'help server'
    end
    echo $cmd
end

function __pegasus_is
    set -l cmd (__pegasus_cmd)
    test "$cmd" = "$argv[1]"
end

# The project's server names; nothing when pegasus cannot list them.
function __pegasus_servers
    {SERVERS_CMD}
end

complete -c pegasus -f
{lines}"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_option_is_in_every_script() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let s = script(shell);
            for cmd in COMMANDS {
                for o in cmd.opts() {
                    assert!(
                        s.contains(&format!("--{}", o.long))
                            || s.contains(&format!("-l {}", o.long)),
                        "{shell:?} lacks --{}",
                        o.long
                    );
                }
            }
            assert!(s.contains("-o noheader -o columns=name </dev/null 2>/dev/null"));
        }
    }
}

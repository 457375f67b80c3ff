//! `pegasus server list` (SPEC §5): every server of the project, as a table or JSON.

use super::{ServerOut, json_line, print};
use crate::cli::{ListArgs, MANAGED_BY};
use crate::error::Result;
use crate::hetzner::Server;
use crate::http::Endpoint;
use crate::session;
use crate::timefmt;
use crate::ui::Ui;

pub fn run(args: &ListArgs, ui: &Ui) -> Result<()> {
    let endpoint = Endpoint::from_env()?;
    let home = session::home_dir();
    let (_client, servers, _) =
        session::connect(ui, &endpoint, home.as_deref(), &|c| c.list_servers())?;
    if args.json {
        let out: Vec<ServerOut> = servers.iter().map(ServerOut::from).collect();
        return print(&json_line(&out)?);
    }
    print(&table(&servers, timefmt::now_unix()))
}

pub fn is_managed(s: &Server) -> bool {
    s.labels.get(MANAGED_BY.0).map(String::as_str) == Some(MANAGED_BY.1)
}

/// The aligned table; a friendly line for an empty project.
pub fn table(servers: &[Server], now: i64) -> String {
    if servers.is_empty() {
        return "No servers in this project yet. Create one with: pegasus server create web1\n"
            .into();
    }
    let mut rows =
        vec![["NAME", "STATUS", "TYPE", "LOCATION", "IPV4", "IPV6", "AGE"].map(String::from)];
    for s in servers {
        let mark = if is_managed(s) { "*" } else { "" };
        let age = timefmt::parse_rfc3339(&s.created)
            .map(|t| timefmt::age(now - t))
            .unwrap_or_else(|| "-".into());
        rows.push([
            format!("{}{mark}", s.name),
            s.status.clone(),
            s.type_name().to_string(),
            s.location_name().to_string(),
            s.ipv4().unwrap_or("-").to_string(),
            s.ipv6().unwrap_or_else(|| "-".into()),
            age,
        ]);
    }
    let mut widths = [0usize; 7];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in &rows {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<w$}   "));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    if servers.iter().any(is_managed) {
        out.push_str("\n* made by pegasus (label managed-by=pegasus)\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(name: &str, managed: bool, ipv4: Option<&str>) -> Server {
        let labels = if managed {
            r#"{"managed-by":"pegasus"}"#
        } else {
            "{}"
        };
        let ipv4 = ipv4
            .map(|ip| format!(r#"{{"ip":"{ip}"}}"#))
            .unwrap_or("null".into());
        serde_json::from_str(&format!(
            r#"{{"id":1,"name":"{name}","status":"running","created":"2026-11-25T10:00:00Z",
               "public_net":{{"ipv4":{ipv4},"ipv6":{{"ip":"2001:db8:1::/64"}}}},
               "server_type":{{"id":1,"name":"cx23"}},"location":{{"id":2,"name":"nbg1"}},
               "image":null,"labels":{labels}}}"#
        ))
        .unwrap()
    }

    #[test]
    fn aligned_table_with_marks() {
        let now = timefmt::parse_rfc3339("2026-11-25T10:12:30Z").unwrap();
        let t = table(
            &[
                server("web1", true, Some("203.0.113.10")),
                server("database-01", false, None),
            ],
            now,
        );
        let expected = "\
NAME          STATUS    TYPE   LOCATION   IPV4           IPV6            AGE
web1*         running   cx23   nbg1       203.0.113.10   2001:db8:1::1   12m
database-01   running   cx23   nbg1       -              2001:db8:1::1   12m

* made by pegasus (label managed-by=pegasus)
";
        assert_eq!(t, expected);
    }

    #[test]
    fn empty_project() {
        assert!(table(&[], 0).starts_with("No servers in this project yet."));
    }
}

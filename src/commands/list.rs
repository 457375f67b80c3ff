//! `pegasus server list` (SPEC §5): every server of the project, as a table or JSON.
//! The table is made for `awk` and `cut`: a cell holds only its value (`-` when
//! empty), and nothing but the header and the rows goes to stdout.

use super::{ServerOut, json_line, print};
use crate::cli::{Column, ListArgs};
use crate::error::Result;
use crate::hetzner::Server;
use crate::http::Endpoint;
use crate::session;
use crate::timefmt;
use crate::ui::Ui;

pub fn run(args: &ListArgs, ui: &Ui) -> Result<()> {
    let endpoint = Endpoint::from_env()?;
    let home = session::home_dir();
    let selector = args.selector.as_deref();
    let (_client, servers, _) = session::connect(ui, &endpoint, home.as_deref(), &|c| {
        c.list_servers_matching(selector)
    })?;
    if args.json {
        let out: Vec<ServerOut> = servers.iter().map(ServerOut::from).collect();
        return print(&json_line(&out)?);
    }
    if servers.is_empty() {
        ui.note(&match selector {
            Some(s) => format!("No servers match the selector '{s}'"),
            None => "No servers in this project yet. Create one with: pegasus server create web1"
                .to_string(),
        });
    }
    let columns = args.columns.as_deref().unwrap_or(&Column::DEFAULT);
    print(&table(
        &servers,
        columns,
        !args.noheader,
        timefmt::now_unix(),
    ))
}

fn header(c: Column) -> &'static str {
    match c {
        Column::Id => "ID",
        Column::Name => "NAME",
        Column::Status => "STATUS",
        Column::Type => "TYPE",
        Column::Location => "LOCATION",
        Column::Ipv4 => "IPV4",
        Column::Ipv6 => "IPV6",
        Column::Age => "AGE",
        Column::Created => "CREATED",
        Column::Labels => "LABELS",
    }
}

/// One cell: the value alone, escaped (it comes from the API), `-` when there is none.
fn cell(s: &Server, c: Column, now: i64) -> String {
    let value = match c {
        Column::Id => s.id.to_string(),
        Column::Name => s.name.to_string(),
        Column::Status => s.status.to_string(),
        Column::Type => s.type_name().to_string(),
        Column::Location => s.location_name().to_string(),
        Column::Ipv4 => s.ipv4().map(|a| a.to_string()).unwrap_or_default(),
        Column::Ipv6 => s.ipv6().map(|a| a.to_string()).unwrap_or_default(),
        Column::Age => timefmt::parse_rfc3339(s.created.raw())
            .map(|t| timefmt::age(now - t))
            .unwrap_or_default(),
        Column::Created => s.created.to_string(),
        Column::Labels => s
            .labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(","),
    };
    if value.is_empty() {
        return "-".into();
    }
    // Already escaped (every value is typed or `Untrusted`). A space inside a cell
    // would split it for `awk`; Hetzner's names have none.
    value.replace(' ', "\\x20")
}

/// The aligned table: columns three spaces apart, the last one not padded.
pub fn table(servers: &[Server], columns: &[Column], with_header: bool, now: i64) -> String {
    let mut rows: Vec<Vec<String>> = Vec::with_capacity(servers.len() + 1);
    if with_header {
        rows.push(columns.iter().map(|c| header(*c).to_string()).collect());
    }
    for s in servers {
        rows.push(columns.iter().map(|c| cell(s, *c, now)).collect());
    }
    let mut widths = vec![0usize; columns.len()];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in &rows {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(&widths).enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<w$}   "));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(name: &str, managed: bool, ipv4: Option<&str>) -> Server {
        let labels = if managed {
            r#"{"managed-by":"pegasus","env":"prod"}"#
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
    fn aligned_table_with_values_only() {
        let now = timefmt::parse_rfc3339("2026-11-25T10:12:30Z").unwrap();
        let servers = [
            server("web1", true, Some("203.0.113.10")),
            server("database-01", false, None),
        ];
        let t = table(&servers, &Column::DEFAULT, true, now);
        let expected = "\
NAME          STATUS    TYPE   LOCATION   IPV4           IPV6            AGE
web1          running   cx23   nbg1       203.0.113.10   2001:db8:1::1   12m
database-01   running   cx23   nbg1       -              2001:db8:1::1   12m
";
        assert_eq!(t, expected);
        let t = table(&servers, &[Column::Name, Column::Labels], false, now);
        assert_eq!(
            t,
            "web1          env=prod,managed-by=pegasus\ndatabase-01   -\n"
        );
    }

    #[test]
    fn empty_project_is_the_header_alone() {
        assert_eq!(
            table(&[], &Column::DEFAULT, true, 0),
            "NAME   STATUS   TYPE   LOCATION   IPV4   IPV6   AGE\n"
        );
        assert_eq!(table(&[], &Column::DEFAULT, false, 0), "");
    }

    #[test]
    fn api_text_is_escaped() {
        let mut s = server("web1", false, None);
        s.status = crate::hetzner::ServerStatus::parse("run\x1b[2Jning now");
        let t = table(&[s], &[Column::Status], false, 0);
        assert_eq!(t, "run\\x1b[2Jning\\x20now\n");
    }
}

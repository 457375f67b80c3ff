//! The help texts, written by hand, at most 80 columns wide. `pegasus help X`,
//! `pegasus server help X` and `X --help` all show these; tests hold them against
//! the option table.

pub const USAGE: &str = "\
pegasus: provision a Hetzner Cloud server for Kamal and point the project's
Kamal config (config/deploy.yml) at it.

Usage:
  pegasus server create <NAME> [-t TYPE] [-i IMAGE] [-l LOC] [-k PATH]
          [--label KEY=VALUE]... [--firewall NAME | --no-firewall]
          [--user-data FILE] [--ssh-port PORT] [--ssh-timeout SECONDS]
          [-c PATH] [-d DEST] [--append | --replace | --role ROLE] [--dns]
          [-y] [--dry-run] [--no-kamal] [--json]
                                      provision a server (the main job)
  pegasus server list [-o noheader] [-o columns=COLS] [-o json] [-l SELECTOR]
          [--json]                    list the project's servers (alias: ls)
  pegasus server ip <NAME> [-6]       print a server's address
  pegasus server destroy <NAME>... [-y] [-c PATH] [-d DEST] [--no-kamal] [--dns]
          [--json]                    delete servers (alias: delete)
  pegasus completions <bash|zsh|fish> print a shell completion script
  pegasus help [COMMAND...]           show the help of a command
                                      (also: --help or -h after any command)
  pegasus --version | -V              print the version

Run 'pegasus help server create' (or 'pegasus server create --help') for the
options of a command.
";

pub const SERVER_USAGE: &str = "\
Usage: pegasus server <command> [options]

Commands:
  create <NAME>       provision a server, then point the Kamal config at it
  list, ls            list every server of the project
  ip <NAME>           print a server's address
                      (for ssh root@$(pegasus server ip web1))
  destroy, delete <NAME>...
                      delete servers (asks you to type the name)
  help [<command>]    show the help of a command

Run 'pegasus server <command> --help' for the options of a command.
";

pub const CREATE_USAGE: &str = "\
Usage: pegasus server create <NAME> [options]

Provision a Hetzner Cloud server named NAME with your SSH key, wait until it is
ready for Kamal, print its address and point the Kamal config
(config/deploy.yml) at it.

Options:
  -t, --server-type TYPE    server type (default: cx23, 2 vCPU / 4 GB)
  -i, --image IMAGE         image name or id (default: ubuntu-24.04)
  -l, --location LOC        location (default: nbg1, Nuremberg)
  -k, --ssh-key PATH        public key file to use (default: the one in ~/.ssh,
                            or a choice when there are several)
      --label KEY=VALUE     extra server label, repeatable
                            (managed-by=pegasus is always added)
      --firewall NAME       Hetzner Cloud Firewall to attach (default:
                            pegasus-kamal, made when missing: SSH, 80, 443 and
                            ICMP in)
      --no-firewall         attach no firewall
      --user-data FILE      cloud-init user data sent with the create
                            (at most 32 KiB)
      --ssh-port PORT       the port SSH answers on, 1-65535
                            (default: Kamal's ssh.port, else 22)
      --ssh-timeout SECONDS how long to wait until the server is ready for
                            Kamal: SSH banner, login, cloud-init, idle package
                            manager (default: 600; 0 skips the wait)
  -c, --config-file PATH    Kamal config to update (default: config/deploy.yml,
                            here or in a parent folder)
  -d, --destination DEST    use config/deploy.DEST.yml (Kamal's -d)
      --append              Kamal: add the server to the web role, change
                            nothing else
      --replace             Kamal: put the server in place of the single web
                            host everywhere
      --role ROLE           Kamal: add the server to role ROLE (not the
                            primary role)
      --dns                 point the Kamal proxy host names at the server in
                            Hetzner DNS
  -y, --yes                 consent to moving live DNS records (it answers no
                            other question)
      --dry-run             check everything, create nothing, print the plan
                            and the price
      --no-kamal            do not read or write any Kamal config
      --json                print one JSON object on stdout and nothing else
  -h, --help                show this help

Options may come before or after NAME; -- ends them. These exclude each other:
--append, --replace and --role; --role and --dns; --firewall and --no-firewall;
--no-kamal and any of --dns, --role, --append, --replace, -c, -d.
Type, image and location names are matched case-insensitively (CX23 is cx23).

Environment:
  HETZNER_API_TOKEN, HCLOUD_TOKEN   API token (else the file
                                    ~/.pegasus/hetzner_credentials, else the
                                    hcloud CLI's active context, else you are
                                    asked for one)
  HCLOUD_ENDPOINT                   API base URL
                                    (default: https://api.hetzner.cloud/v1)

Examples:
  pegasus server create web1
  pegasus server create staging1 -d staging --dry-run
  ssh \"root@$(pegasus server create web1 --json | jq -r .server.ipv4)\"
";

pub const LIST_USAGE: &str = "\
Usage: pegasus server list [options]        (alias: ls)

List every server of the Hetzner project (all pages), one per line under a
header: NAME STATUS TYPE LOCATION IPV4 IPV6 AGE. A cell holds only its value
('-' when empty).

Options:
  -o, --output FORMAT       noheader: no header line; columns=COLS: these
                            columns, from id, name, status, type, location,
                            ipv4, ipv6, age, created, labels (as k=v,k=v);
                            json: same as --json. Repeatable:
                            -o noheader -o columns=name
  -l, --selector SELECTOR   only servers matching a Hetzner label selector
                            (e.g. managed-by=pegasus, env!=prod, env in (a,b))
      --json                print a JSON array of server objects
  -h, --help                show this help

Example:
  pegasus server list -o noheader -o columns=name -l managed-by=pegasus
";

pub const IP_USAGE: &str = "\
Usage: pegasus server ip <NAME> [-6]

Print the server's public IPv4 address alone on a line (the IPv6 address, ending
in ::1, when it has no IPv4).

Options:
  -6, --ipv6                print the IPv6 address instead
  -h, --help                show this help

Example:
  ssh root@$(pegasus server ip web1)
";

pub const DESTROY_USAGE: &str = "\
Usage: pegasus server destroy <NAME>... [options]      (alias: delete)

Delete the servers named. Every name is looked up first (an unknown one: nothing
is deleted). Shows what will be deleted and asks you to type the name (with
several servers: their number) to confirm; without a terminal, --yes is
required. The servers are deleted side by side, then the Kamal config forgets
their addresses.

Options:
  -y, --yes                 do not ask for confirmation
  -c, --config-file PATH    Kamal config that forgets the servers' addresses
                            (default: config/deploy.yml)
  -d, --destination DEST    use config/deploy.DEST.yml (Kamal's -d)
      --no-kamal            leave the Kamal config alone
      --dns                 remove the servers' addresses from the DNS records
                            of the Kamal proxy host names
      --json                print one JSON object per server, one per line
  -h, --help                show this help

--no-kamal excludes --dns, -c and -d.

Example:
  pegasus server list -o noheader -o columns=name -l env=staging |
      xargs -r pegasus server destroy --yes
";

pub const COMPLETIONS_USAGE: &str = "\
Usage: pegasus completions <bash|zsh|fish>

Print a completion script for the shell: commands, options, and server names for
'server destroy' and 'server ip' (read with 'pegasus server list' as you type).

Options:
  -h, --help                show this help

Install:
  bash:  pegasus completions bash \\
           > ~/.local/share/bash-completion/completions/pegasus
  zsh:   pegasus completions zsh > ~/.zfunc/_pegasus
         (with fpath+=(~/.zfunc) before compinit in ~/.zshrc)
  fish:  pegasus completions fish > ~/.config/fish/completions/pegasus.fish
";

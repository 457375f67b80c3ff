//! The price (SPEC §4 step 13): `GET /pricing` is read in step 6's parallel batch, beside
//! the server type the preflight reads anyway (whose `prices` it uses), and the price is
//! shown in the "Creating server" line and the summary.

use crate::cli::CreateArgs;
use crate::hetzner::{self, Price, Pricing, Server, ServerType};

/// What a price needs: the server type as the preflight read it, and `GET /pricing`.
pub struct Priced {
    pub server_type: Option<ServerType>,
    pub pricing: Pricing,
}

impl Priced {
    /// The server this run asks for: its type in its location, with a primary IPv4 (a
    /// create always asks for one). `None` when the type has no price there.
    pub fn planned(&self, args: &CreateArgs) -> Option<Price> {
        let t = self.server_type.as_ref()?;
        hetzner::price(t, &self.pricing, &args.location, true)
    }

    /// The server as it is: its location, an IPv4 only when it has one. `None` when
    /// its type is not the one the preflight read (a picked-up server of another type).
    pub fn of(&self, server: &Server) -> Option<Price> {
        let t = self
            .server_type
            .as_ref()
            .filter(|t| &t.name == server.type_name())?;
        let location = server.location_name().raw();
        hetzner::price(t, &self.pricing, location, server.ipv4().is_some())
    }
}

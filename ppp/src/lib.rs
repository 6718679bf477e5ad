//! Role-agnostic PPP (sans-IO).

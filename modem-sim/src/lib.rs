//! modem-sim

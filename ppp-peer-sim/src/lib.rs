//! ppp-peer-sim

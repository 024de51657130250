"""Real servers on loopback that stand in for the outside world (SMTP, SMS gateways)."""

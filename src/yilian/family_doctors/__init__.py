"""Family-doctor contracting: care teams, their members, service packages and contracts with residents."""

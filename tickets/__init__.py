"""The ticket store: clients, services, PINs, tickets, their SLA clocks, the call log and the timeline."""

"""Getting the organisation in and out: catalogue imports (Backstage, spreadsheets), the
static publication of the network, and webhooks that tell other systems what happened."""

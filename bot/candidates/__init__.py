"""A candidate's own data, beyond chat: erase (`erase`), retention (`retention`) and
export (`export`: one candidate's JSON behind a short-lived link, a whole org from the CLI)."""

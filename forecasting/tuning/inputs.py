"""Covariate subsets as a search dimension: which of the data's inputs a trial's network reads.

A subset is written as the names of its inputs joined by " + " ("temp + promo"), "none" for
the target alone; the calendar features count as one input, `CALENDAR`. Static columns are
recorded, never fed, so they are kept whatever the subset. The dimension (`COVARIATES`) is a
choice over subsets: every subset for up to `ALL_SUBSETS_UP_TO` inputs; for more, all of them,
each one left out, each one alone, and none.
"""

from __future__ import annotations

from itertools import combinations

from forecasting.covariates import Roles
from forecasting.errors import ConfigError

COVARIATES = "covariates"  # the dimension's name
CALENDAR = "(calendar)"  # the calendar features, as an input of a subset
NONE = "none"  # the target alone
JOIN = " + "
ALL_SUBSETS_UP_TO = 3


def inputs_of(roles: Roles | None) -> tuple[str, ...]:
    """The inputs a subset chooses among: past, then future covariates, then the calendar."""
    if roles is None:
        return ()
    return roles.columns + ((CALENDAR,) if roles.calendar else ())


def subset_label(names) -> str:
    """A subset's value in the space: its inputs joined by " + ", or "none"."""
    return JOIN.join(names) or NONE


def subsets(roles: Roles | None) -> tuple[str, ...]:
    """The subsets searched, the whole set first and "none" last (empty without inputs, or
    when an input's name holds "," or "+", which the space's text cannot carry)."""
    names = inputs_of(roles)
    if not names or any("," in n or "+" in n for n in names):
        return ()
    if len(names) <= ALL_SUBSETS_UP_TO:
        chosen = [c for size in range(len(names), 0, -1) for c in combinations(names, size)]
    else:
        chosen = [
            names,
            *(tuple(n for n in names if n != left) for left in names),
            *((n,) for n in names),
        ]
    return tuple(dict.fromkeys(subset_label(c) for c in chosen)) + (NONE,)


def subset_roles(label: str, roles: Roles | None) -> Roles:
    """The roles a subset keeps (each input in its own role; static columns kept).

    Raises:
        ConfigError: The subset names an input the data does not have (names the inputs).
    """
    roles = roles or Roles()
    names = () if str(label).strip() == NONE else tuple(n.strip() for n in str(label).split("+"))
    known = inputs_of(roles)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ConfigError(
            f"Search space: the covariate subset {label!r} names {', '.join(map(repr, unknown))},"
            f" not an input of this data. Use {NONE!r} or names among: "
            f"{', '.join(known) or 'none (the data has no covariates)'}, joined by ' + '."
        )
    return Roles(
        past=tuple(c for c in roles.past if c in names),
        future=tuple(c for c in roles.future if c in names),
        static=roles.static,
        calendar=roles.calendar and CALENDAR in names,
    )

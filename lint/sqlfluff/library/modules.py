"""dbt's `modules` context object for sqlfluff's jinja templater: the standard modules macros use."""

import datetime  # noqa: F401 - modules.datetime
import itertools  # noqa: F401 - modules.itertools
import re  # noqa: F401 - modules.re (macros/actions.sql)

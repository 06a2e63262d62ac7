"""``wuye gen-data``: a realistic data set of a given size, written by PostgreSQL itself.

Plain modules, one per step, run in this order by ``runner.generate`` (each step in its
own transaction, with its rows and seconds reported):

- ``registry``: companies (``create_company``), communities, buildings, units, houses;
- ``residents``: a login, ``Resident`` and ``Residency`` per occupied house;
- ``staff``: office and field staff per community, roles, memberships, the roster;
- ``orders``: work orders with their SLA deadlines (``slaclock``: the real calendars);
- ``feedback``: ratings and complaint rows;
- ``events``: every order's typed timeline;
- ``bills``: fee items, chargings, bill runs, bills, payments, allocations;
- ``inspections``: checklists, assets, checkpoints, plans, tasks, visits, answers;
- rollups (``wuye.quality.rollups.rebuild``), then ``ANALYZE``.

``options`` has the presets, ``catalog`` what requests are about and when they come,
``sql`` the shared helpers (counter-based random draws, id blocks, index rebuilds),
``cleanup`` the ``--replace`` deletion. ``bench/README.md`` ("Data at scale") has the
figures.
"""

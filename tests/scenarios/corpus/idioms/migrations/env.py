"""env.py with the options real projects set: -x arguments, a version table of its own."""

from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config
x = context.get_x_argument(as_dictionary=True)
# `-x tenant=NAME` picks the version table, as multi-tenant projects do.
options = {"version_table": f"{x.get('tenant', 'acme')}_versions", "compare_type": True}

if context.is_offline_mode():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        **options,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    connectable = config.attributes.get("connection") or engine_from_config(
        config.get_section(config.config_ini_section, {}), poolclass=pool.NullPool
    )
    with connectable.connect() as connection:
        context.configure(connection=connection, **options)
        with context.begin_transaction():
            context.run_migrations()

from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Catalog"

    def ready(self) -> None:
        # Imported here: this module is loaded before the app's models exist.
        from django.db import transaction
        from django.db.models.signals import post_delete

        from catalog.imports.jobs import delete_import_files
        from catalog.models import ImportJob

        # A deleted job (admin) takes its stored uploads with it, once the delete commits;
        # ORM deletes of any kind send this, bulk admin deletes included.
        post_delete.connect(
            lambda instance, **_: transaction.on_commit(lambda: delete_import_files(instance)),
            sender=ImportJob,
            weak=False,
            dispatch_uid="catalog.delete_import_files",
        )

"""`manage.py import_catalog`: a local file and photo folder, imported in this process, with
the report by line and the failed rows written to a CSV."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from catalog.models import Product
from tests.catalog.imports.helpers import HEADER

pytestmark = pytest.mark.django_db


def test_import_catalog_command_reads_a_folder_and_reports_by_line(tmp_path, png_bytes, capsys):
    (tmp_path / "photos" / "sub").mkdir(parents=True)
    (tmp_path / "photos" / "sub" / "a.png").write_bytes(png_bytes("green"))
    (tmp_path / "secret.png").write_bytes(png_bytes("black"))
    data = tmp_path / "catalog.csv"
    data.write_text(
        HEADER
        + "C-1,Mug,,,Home,1,,,sub/a.png\n"
        + "C-2,Cup,,,Home,oops,,,\n"
        + "C-3,Plate,,,Home,2,,,../secret.png\n"
    )
    failed = tmp_path / "failed.csv"

    with pytest.raises(SystemExit) as exit_status:
        call_command(
            "import_catalog", str(data), images=str(tmp_path / "photos"), failed_rows=str(failed)
        )

    assert exit_status.value.code == 2
    out = capsys.readouterr().out
    assert "3 of 3 rows — 2 created, 0 updated, 0 unchanged, 1 failed, 1 warnings" in out
    assert "line 3 (C-2): price: not a number: 'oops'" in out
    assert "line 4 (C-3): images: photo '../secret.png' is outside the images folder" in out
    assert Product.objects.get(sku="C-1").images.count() == 1
    assert not Product.objects.get(sku="C-3").images.exists()
    assert "C-2" in failed.read_text() and "C-1" not in failed.read_text()

    failed.write_text(failed.read_text().replace("oops", "3"))  # fixed; exit status 0
    call_command("import_catalog", str(failed))
    assert str(Product.objects.get(sku="C-2").price) == "3.00"


def test_import_catalog_command_refuses_a_malformed_file(tmp_path):
    data = tmp_path / "catalog.csv"
    data.write_bytes("sku,name\nA-1,Caf\xe9\n".encode("latin-1"))
    with pytest.raises(Exception, match="not UTF-8"):
        call_command("import_catalog", str(data))
    assert not Product.objects.exists()

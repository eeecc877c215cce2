"""The conventions in force (data, not code), the treaties staff role, and periods that cannot be edited."""

from django.db import migrations

CONVENTIONS = [
    {
        "country": "FR",
        "name_fr": "France",
        "name_ar": "فرنسا",
        "title_fr": "Convention de sécurité sociale entre le Royaume du Maroc et la République française",
        "title_ar": "اتفاقية الضمان الاجتماعي بين المملكة المغربية والجمهورية الفرنسية",
        "liaison_institution": "Caisse nationale d'assurance vieillesse (CNAV)",
        "liaison_institution_ar": "الصندوق الوطني للتأمين على الشيخوخة",
        "reporting_unit": "quarters",
    },
    {
        "country": "BE",
        "name_fr": "Belgique",
        "name_ar": "بلجيكا",
        "title_fr": "Convention générale sur la sécurité sociale entre le Royaume du Maroc et le Royaume de Belgique",
        "title_ar": "الاتفاقية العامة للضمان الاجتماعي بين المملكة المغربية ومملكة بلجيكا",
        "liaison_institution": "Service fédéral des Pensions (SFP)",
        "liaison_institution_ar": "المصلحة الفيدرالية للمعاشات",
        "reporting_unit": "days",
    },
    {
        "country": "NL",
        "name_fr": "Pays-Bas",
        "name_ar": "هولندا",
        "title_fr": "Convention sur la sécurité sociale entre le Royaume du Maroc et le Royaume des Pays-Bas",
        "title_ar": "اتفاقية الضمان الاجتماعي بين المملكة المغربية ومملكة هولندا",
        "liaison_institution": "Sociale Verzekeringsbank (SVB)",
        "liaison_institution_ar": "بنك التأمينات الاجتماعية",
        "reporting_unit": "months",
    },
    {
        "country": "ES",
        "name_fr": "Espagne",
        "name_ar": "إسبانيا",
        "title_fr": "Convention de sécurité sociale entre le Royaume du Maroc et le Royaume d'Espagne",
        "title_ar": "اتفاقية الضمان الاجتماعي بين المملكة المغربية ومملكة إسبانيا",
        "liaison_institution": "Instituto Nacional de la Seguridad Social (INSS)",
        "liaison_institution_ar": "المعهد الوطني للضمان الاجتماعي",
        "reporting_unit": "days",
    },
]

GROUP = "treaty"

IMMUTABLE_SQL = """
CREATE OR REPLACE FUNCTION treaties_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'foreign periods are never edited: record a new version';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER treaties_foreignperiod_immutable
    BEFORE UPDATE OR DELETE ON treaties_foreignperiod
    FOR EACH ROW EXECUTE FUNCTION treaties_refuse_change();
"""
IMMUTABLE_SQL_REVERSE = """
DROP TRIGGER IF EXISTS treaties_foreignperiod_immutable ON treaties_foreignperiod;
DROP FUNCTION IF EXISTS treaties_refuse_change();
"""


def forwards(apps, schema_editor):
    Convention = apps.get_model("treaties", "Convention")
    for row in CONVENTIONS:
        Convention.objects.update_or_create(country=row["country"], defaults=row)
    apps.get_model("auth", "Group").objects.get_or_create(name=GROUP)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(IMMUTABLE_SQL)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(IMMUTABLE_SQL_REVERSE)
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()
    apps.get_model("treaties", "Convention").objects.filter(country__in=[c["country"] for c in CONVENTIONS]).delete()


class Migration(migrations.Migration):
    dependencies = [("treaties", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(forwards, backwards)]

"""Every unique constraint of a tenant's table leads with the tenant, and the stores of a membership are the
tenant's rows: the table Django made for that many-to-many relation (no tenant_id) gives way to
MembershipLocation, its rows copied over."""
import django.db.models.deletion
import django.db.models.manager
import uuid
from django.db import migrations, models


def copy_to_membership_locations(apps, schema_editor):
    Membership = apps.get_model("oms", "Membership")
    MembershipLocation = apps.get_model("oms", "MembershipLocation")
    links = Membership.locations.through._default_manager.values_list("membership_id", "location_id",
                                                                      "membership__tenant_id")
    MembershipLocation._default_manager.bulk_create(
        [MembershipLocation(tenant_id=tenant_id, membership_id=membership_id, location_id=location_id)
         for membership_id, location_id, tenant_id in links.iterator()], batch_size=1000)


def copy_back(apps, schema_editor):
    Membership = apps.get_model("oms", "Membership")
    MembershipLocation = apps.get_model("oms", "MembershipLocation")
    Link = Membership.locations.through
    Link._default_manager.bulk_create(
        [Link(membership_id=membership_id, location_id=location_id) for membership_id, location_id in
         MembershipLocation._default_manager.values_list("membership_id", "location_id").iterator()],
        batch_size=1000)


class Migration(migrations.Migration):

    dependencies = [
        ('inventory', '0008_tenant_led_indexes_only'),
        ('oms', '0005_tenant_led_indexes_only'),
    ]

    operations = [
        migrations.CreateModel(
            name='MembershipLocation',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('tenant', models.ForeignKey(db_index=False, editable=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='oms.tenant', verbose_name='tenant')),
                ('membership', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='oms.membership', verbose_name='membership')),
                ('location', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='inventory.location', verbose_name='location')),
            ],
            options={
                'verbose_name': 'membership store',
                'verbose_name_plural': 'membership stores',
                'constraints': [models.UniqueConstraint(fields=('tenant', 'membership', 'location'), name='membership_location_unique')],
            },
            managers=[
                ('all_tenants', django.db.models.manager.Manager()),
            ],
        ),
        migrations.RunPython(copy_to_membership_locations, copy_back),
        migrations.RemoveField(
            model_name='membership',
            name='locations',
        ),
        migrations.AddField(
            model_name='membership',
            name='locations',
            field=models.ManyToManyField(blank=True, related_name='+', through='oms.MembershipLocation', to='inventory.location', verbose_name='store locations'),
        ),
        migrations.AlterField(
            model_name='outboxevent',
            name='event_id',
            field=models.UUIDField(default=uuid.uuid4, editable=False),
        ),
        migrations.AddConstraint(
            model_name='outboxevent',
            constraint=models.UniqueConstraint(fields=('tenant', 'event_id'), name='outbox_unique_event_id'),
        ),
        migrations.RemoveConstraint(
            model_name='webhookdelivery',
            name='delivery_unique_event',
        ),
        migrations.AddConstraint(
            model_name='webhookdelivery',
            constraint=models.UniqueConstraint(fields=('tenant', 'subscription', 'event'), name='delivery_unique_event'),
        ),
    ]

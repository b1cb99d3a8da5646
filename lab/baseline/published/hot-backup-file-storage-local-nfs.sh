#!/bin/bash
# hotsnap baseline: StrangeBee's published script, VERBATIM, from
# shared/reference/thehive-runbook.md §1 step 7 (file storage, NFS/local),
# which quotes docs/includes/hot-backup-file-storage-local-nfs.md of github.com/StrangeBeeCorp/docs
# (HEAD fc4027e7; unchanged since 2f59a129) with blank lines and # comment lines removed.
# Do not edit below this header: lab/baseline (Install) substitutes only the
# variables the documentation says to edit, and keeps every bug the
# runbook's [Note] lines describe.
ATTACHMENT_FOLDER=/opt/thp/thehive/files
GENERAL_ARCHIVE_PATH=/mnt/backup/storage
SNAPSHOT_NAME="files_$(date +%Y%m%d_%Hh%Mm%Ss)"
ATTACHMENT_ARCHIVE_PATH="${GENERAL_ARCHIVE_PATH}/${SNAPSHOT_NAME}"
mkdir -p ${ATTACHMENT_ARCHIVE_PATH}
cp -r ${ATTACHMENT_FOLDER}/. ${ATTACHMENT_ARCHIVE_PATH}/
cd ${GENERAL_ARCHIVE_PATH}
tar cf ${SNAPSHOT_NAME}.tar ${SNAPSHOT_NAME}
rm -rf ${GENERAL_ARCHIVE_PATH}/${SNAPSHOT_NAME}
echo ""
echo "TheHive attachment files backup done! Keep the following backup archive safe:"
echo "${GENERAL_ARCHIVE_PATH}/${SNAPSHOT_NAME}.tar"

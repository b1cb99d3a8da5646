#!/bin/bash
# hotsnap baseline: StrangeBee's published script, VERBATIM, from
# shared/reference/thehive-runbook.md §2 step 3 (file storage, NFS/local),
# which quotes docs/includes/hot-restore-file-storage-local-nfs.md of github.com/StrangeBeeCorp/docs
# (HEAD fc4027e7; unchanged since 2f59a129) with blank lines and # comment lines removed.
# Do not edit below this header: lab/baseline (Install) substitutes only the
# variables the documentation says to edit, and keeps every bug the
# runbook's [Note] lines describe.
ATTACHMENT_FOLDER=/opt/thp/thehive/files
GENERAL_ARCHIVE_PATH=/mnt/backup/storage
ATTACHMENT_BACKUP_LIST=(${GENERAL_ARCHIVE_PATH}/files_????????_??h??m??s.tar)
ATTACHMENT_LATEST_BACKUP_NAME=$(basename ${ATTACHMENT_BACKUP_LIST[-1]})
echo "Latest attachment files backup archive found is ${GENERAL_ARCHIVE_PATH}/${ATTACHMENT_LATEST_BACKUP_NAME}"
ATTACHMENT_SNAPSHOT_NAME=$(echo ${ATTACHMENT_LATEST_BACKUP_NAME} | cut -d '.' -f 1)
ATTACHMENT_SNAPSHOT_FOLDER="${GENERAL_ARCHIVE_PATH}/${ATTACHMENT_SNAPSHOT_NAME}"
tar xvf "${GENERAL_ARCHIVE_PATH}/${ATTACHMENT_LATEST_BACKUP_NAME}" -C ${GENERAL_ARCHIVE_PATH}
echo "Latest attachment files backup archive extracted in ${ATTACHMENT_SNAPSHOT_FOLDER}"
rm -rf ${ATTACHMENT_FOLDER}/*
cp -r ${ATTACHMENT_SNAPSHOT_FOLDER}/* ${ATTACHMENT_FOLDER}/
echo "attachment files data restoration done!"
rm -rf ${ATTACHMENT_SNAPSHOT_FOLDER}
